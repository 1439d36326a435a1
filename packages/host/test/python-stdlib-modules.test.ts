// The C modules and data the Python guest ships besides the pure-Python stdlib (zlib, bz2, lzma,
// sqlite3, pyexpat, _decimal, hashlib's built-in algorithms, the IANA time-zone database),
// exercised through the host against the real guest: an import that works but a library that
// was linked wrong, or zones that are not found, only show up when the code runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactDir } from '@component-sandbox/guest-python';
import { GuestError, createSandbox, type Sandbox } from '../dist/index.js';

describe('the Python guest’s C modules', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await createSandbox({ guest: artifactDir });
  });
  afterAll(() => sandbox.close());

  async function value(expression: string): Promise<unknown> {
    return (await sandbox.eval(expression)).value;
  }

  it('is CPython 3.13', async () => {
    expect(await value('__import__("sys").version_info[:2]')).toEqual([3, 13]);
  });

  it('imports every module users reach for', async () => {
    await sandbox.exec(
      'import zlib, gzip, zipfile, bz2, lzma, sqlite3, zoneinfo, decimal, hashlib, pyexpat, ' +
        'xml.etree.ElementTree as ET, binascii, io',
    );
    expect(await value('decimal.Decimal.__module__')).toBe('decimal');
    // _decimal (C), not the _pydecimal fallback.
    expect(await value('__import__("decimal").__file__ is None or __import__("_decimal") is not None')).toBe(true);
  });

  it('compresses and decompresses with zlib, gzip, bz2 and lzma', async () => {
    await sandbox.exec('data = ("component-sandbox " * 2000).encode()');
    expect(await value('zlib.decompress(zlib.compress(data, 9)) == data')).toBe(true);
    expect(await value('len(zlib.compress(data)) < len(data) // 50')).toBe(true);
    expect(await value('zlib.crc32(b"hello")')).toBe(907060870);
    expect(await value('gzip.decompress(gzip.compress(data)) == data')).toBe(true);
    expect(await value('bz2.decompress(bz2.compress(data)) == data')).toBe(true);
    // LZMA's encoder needs 3 MiB (preset 0) to 670 MiB (preset 9). Under the 20 MiB default, of
    // which the interpreter and its 4 MiB stack take 11.2, preset 0 fits after the calls above.
    expect(await value('lzma.decompress(lzma.compress(data, preset=0)) == data')).toBe(true);
    expect(await value('lzma.decompress(lzma.compress(data, format=lzma.FORMAT_ALONE, preset=0)) == data')).toBe(true);
  });

  it('turns an LZMA preset that needs more memory than the limit into MemoryError, and keeps going', async () => {
    const error = await sandbox.eval('lzma.compress(data)').catch((e: unknown) => e);
    expect((error as GuestError).guestMessage).toBe('MemoryError');
    expect(await value('zlib.decompress(zlib.compress(data)) == data')).toBe(true);
  });

  it('compresses with the default LZMA preset under a bigger memory limit', async () => {
    await using big = await createSandbox({ guest: artifactDir, memoryLimitBytes: 160 * 1024 * 1024 });
    await big.exec('import lzma\ndata = b"x" * 100000');
    expect((await big.eval('lzma.decompress(lzma.compress(data)) == data')).value).toBe(true);
  });

  it('writes and reads a zip archive in memory', async () => {
    await sandbox.exec(
      'buffer = io.BytesIO()\n' +
        'with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:\n' +
        '    archive.writestr("a.txt", "alpha " * 100)\n' +
        'with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:\n' +
        '    zipped = archive.read("a.txt").decode()',
    );
    expect(await value('zipped == "alpha " * 100')).toBe(true);
  });

  it('runs SQLite with JSON functions and FTS5', async () => {
    await sandbox.exec(
      'db = sqlite3.connect(":memory:")\n' +
        'db.execute("create table docs (id integer primary key, body text, meta text)")\n' +
        'db.executemany("insert into docs (body, meta) values (?, ?)", [\n' +
        '    ("the quick brown fox", \'{"tags": ["animal", "fast"], "n": 1}\'),\n' +
        '    ("a lazy dog sleeps", \'{"tags": ["animal"], "n": 2}\'),\n' +
        '    ("sqlite in webassembly", \'{"tags": ["tech"], "n": 3}\'),\n' +
        '])\n' +
        'db.execute("create virtual table docs_fts using fts5(body)")\n' +
        'db.execute("insert into docs_fts (rowid, body) select id, body from docs")',
    );
    expect(await value('sqlite3.sqlite_version_info >= (3, 38, 0)')).toBe(true);
    expect(
      await value('db.execute("select json_extract(meta, \'$.tags[1]\') from docs where id = 1").fetchone()[0]'),
    ).toBe('fast');
    expect(await value('db.execute("select sum(json_extract(meta, \'$.n\')) from docs").fetchone()[0]')).toBe(6);
    expect(
      await value(
        '[row[0] for row in db.execute("select rowid from docs_fts where docs_fts match \'dog OR fox\' order by rowid")]',
      ),
    ).toEqual([1, 2]);
    expect(
      await value(
        "db.execute(\"select highlight(docs_fts, 0, '[', ']') from docs_fts where docs_fts match 'webassembly'\").fetchone()[0]",
      ),
    ).toBe('sqlite in [webassembly]');
    expect(await value('db.execute("select json_group_array(id) from docs").fetchone()[0]')).toBe('[1,2,3]');
  });

  it('reports SQL errors as Python exceptions, and the sandbox keeps working', async () => {
    const error = await sandbox.eval('db.execute("select * from missing_table")').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestError);
    expect((error as GuestError).guestMessage).toBe('OperationalError: no such table: missing_table');
    expect(await value('db.execute("select count(*) from docs").fetchone()[0]')).toBe(3);
  });

  it('locks a database file between two connections as SQLite does within one process', async () => {
    // Two connections to one file in /tmp: the VFS keeps their locks in its own table of open
    // files (keyed by the scratch store's inode numbers), so a writer's uncommitted rows are
    // invisible to the other connection, a second writer and a commit under a reader wait for
    // the busy timeout and then fail with "database is locked", and a commit is seen at once.
    await sandbox.exec(
      'import os, time\n' +
        'one = sqlite3.connect("/tmp/two.db", timeout=0.3)\n' +
        'two = sqlite3.connect("/tmp/two.db", timeout=0.3)\n' +
        'one.execute("create table t (x)")\n' +
        'one.executemany("insert into t values (?)", [(1,), (2,)])\n' +
        'one.commit()\n' +
        'def locked(action):\n' +
        '    started = time.monotonic()\n' +
        '    try:\n' +
        '        action()\n' +
        '    except sqlite3.OperationalError as e:\n' +
        '        return str(e), time.monotonic() - started >= 0.25\n' +
        '    return "allowed", None',
    );
    await sandbox.exec('one.execute("insert into t values (3)")');
    expect(await value('one.in_transaction, one.execute("select count(*) from t").fetchone()[0]')).toEqual([true, 3]);
    expect(await value('two.execute("select count(*) from t").fetchone()[0]')).toBe(2);
    expect(await value('locked(lambda: two.execute("insert into t values (4)"))')).toEqual([
      'database is locked',
      true,
    ]);
    await sandbox.exec('two.rollback()\none.commit()');
    expect(await value('two.execute("select x from t order by x").fetchall()')).toEqual([[1], [2], [3]]);
    // A statement still reading holds a shared lock: the other connection cannot commit under it.
    await sandbox.exec(
      'one.execute("insert into t values (4)")\nreader = two.execute("select x from t")\nreader.fetchone()',
    );
    expect(await value('locked(one.commit)')).toEqual(['database is locked', true]);
    await sandbox.exec('reader.fetchall()\none.commit()');
    expect(await value('two.execute("select x from t order by x").fetchall()')).toEqual([[1], [2], [3], [4]]);
    // No lock files: the locks live in the VFS, not in the directory.
    expect(await value('sorted(n for n in os.listdir("/tmp") if n.startswith("two.db"))')).toEqual(['two.db']);
    await sandbox.exec('one.close()\ntwo.close()');
  });

  it('has FTS4 (and FTS3) besides FTS5', async () => {
    await sandbox.exec(
      'db.execute("create virtual table notes using fts4(body)")\n' +
        "db.execute(\"insert into notes (body) values ('full text search'), ('sqlite fts4')\")",
    );
    expect(await value('db.execute("select body from notes where notes match \'fts4\'").fetchall()')).toEqual([
      ['sqlite fts4'],
    ]);
    expect(await value('db.execute("create virtual table old using fts3(body)") is not None')).toBe(true);
  });

  it('hashes with the built-in sha2, sha3 and blake2', async () => {
    expect(await value('hashlib.sha256(b"abc").hexdigest()')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(await value('hashlib.sha3_256(b"abc").hexdigest()')).toBe(
      '3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532',
    );
    expect(await value('hashlib.blake2b(b"abc", digest_size=16).hexdigest()')).toBe('cf4ab791c62b8d2b2109c90275287816');
    expect(await value('hashlib.md5(b"abc").hexdigest()')).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(await value('sorted({"sha3_256", "blake2b", "sha512"} - hashlib.algorithms_available)')).toEqual([]);
  });

  it('knows the IANA time zones', async () => {
    await sandbox.exec('from datetime import datetime\nfrom zoneinfo import ZoneInfo');
    expect(await value('datetime(2024, 7, 1, 12, tzinfo=ZoneInfo("Europe/Paris")).isoformat()')).toBe(
      '2024-07-01T12:00:00+02:00',
    );
    expect(await value('datetime(2024, 1, 15, 12, tzinfo=ZoneInfo("Europe/Paris")).isoformat()')).toBe(
      '2024-01-15T12:00:00+01:00',
    );
    expect(await value('datetime(2024, 7, 1, 12, tzinfo=ZoneInfo("America/New_York")).tzname()')).toBe('EDT');
    expect(await value('str(ZoneInfo("UTC").utcoffset(None))')).toBe('0:00:00');
    expect(await value('len(zoneinfo.available_timezones()) > 300')).toBe(true);
    const error = await sandbox.eval('ZoneInfo("Not/AZone")').catch((e: unknown) => e);
    expect((error as GuestError).guestMessage).toMatch(/^ZoneInfoNotFoundError: /);
  });

  it('has the same zones at the system path, read-only, for code that reads zone files there', async () => {
    await sandbox.exec('import os, pathlib');
    expect(await value("pathlib.Path('/usr/share/zoneinfo/Europe/Paris').read_bytes()[:4].decode()")).toBe('TZif');
    expect(await value("'Europe' in os.listdir('/usr/share/zoneinfo') and os.listdir('/usr/share')")).toEqual([
      'zoneinfo',
    ]);
    expect(
      await value(
        "str(ZoneInfo.from_file(open('/usr/share/zoneinfo/Asia/Tokyo', 'rb')).utcoffset(datetime(2024, 1, 1)))",
      ),
    ).toBe('9:00:00');
    const write = await sandbox.run('exec', "open('/usr/share/zoneinfo/Mine', 'w')");
    expect(write.error?.message).toContain('Read-only file system');
  });

  it('parses XML with expat and computes with _decimal', async () => {
    expect(await value('[c.get("id") for c in ET.fromstring("<r><c id=\'1\'/><c id=\'2\'/></r>")]')).toEqual([
      '1',
      '2',
    ]);
    await sandbox.exec('decimal.getcontext().prec = 50');
    expect(await value('str(decimal.Decimal(1) / decimal.Decimal(7))')).toBe(
      '0.14285714285714285714285714285714285714285714285714',
    );
  });
});
