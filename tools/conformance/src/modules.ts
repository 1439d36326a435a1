/**
 * The fixed list of CPython test modules the suite runs, and what of Lib/test they need.
 *
 * The list is fixed (not "everything that passes") so that the numbers mean the same thing from
 * one run to the next: modules for the C extensions we build in (zlib, bz2, lzma, pyexpat,
 * sqlite3, array, hashlib, _decimal, _datetime, _json, _csv) and the stdlib modules over them
 * (gzip, zipfile), for what people use most (re, json, datetime, decimal, zoneinfo, tempfile),
 * and asyncio's core, which the guest's own event loop must carry.
 */

export interface ConformanceModule {
  /** Dotted name unittest loads, e.g. `test.test_zlib`. */
  name: string;
  /** Path under Lib/test of the module or package to ship. */
  path: string;
}

export const MODULES: readonly ConformanceModule[] = [
  { name: 'test.test_zlib', path: 'test_zlib.py' },
  { name: 'test.test_bz2', path: 'test_bz2.py' },
  { name: 'test.test_lzma', path: 'test_lzma.py' },
  { name: 'test.test_gzip', path: 'test_gzip.py' },
  { name: 'test.test_zipfile', path: 'test_zipfile' },
  { name: 'test.test_pyexpat', path: 'test_pyexpat.py' },
  { name: 'test.test_sqlite3', path: 'test_sqlite3' },
  { name: 'test.test_zoneinfo', path: 'test_zoneinfo' },
  { name: 'test.test_asyncio.test_futures', path: 'test_asyncio/test_futures.py' },
  { name: 'test.test_asyncio.test_tasks', path: 'test_asyncio/test_tasks.py' },
  { name: 'test.test_asyncio.test_locks', path: 'test_asyncio/test_locks.py' },
  { name: 'test.test_asyncio.test_queues', path: 'test_asyncio/test_queues.py' },
  { name: 'test.test_asyncio.test_taskgroups', path: 'test_asyncio/test_taskgroups.py' },
  { name: 'test.test_asyncio.test_timeouts', path: 'test_asyncio/test_timeouts.py' },
  { name: 'test.test_csv', path: 'test_csv.py' },
  { name: 'test.test_array', path: 'test_array.py' },
  { name: 'test.test_hashlib', path: 'test_hashlib.py' },
  { name: 'test.test_tempfile', path: 'test_tempfile.py' },
  { name: 'test.test_json', path: 'test_json' },
  { name: 'test.test_re', path: 'test_re.py' },
  { name: 'test.test_datetime', path: 'test_datetime.py' },
  { name: 'test.test_decimal', path: 'test_decimal.py' },
];

/**
 * Lib/test paths every run ships besides the modules: the `test` package itself, test.support,
 * the shared helper modules at the top of Lib/test (every `*.py` there that is not a test_
 * module: datetimetester, re_tests, seq_tests, ...; copied by rule, see sources.ts), and data.
 */
export const SUPPORT_PATHS: readonly string[] = [
  'support',
  'decimaltestdata', // test_decimal's cases
  'certdata', // test.test_asyncio.utils reads certificate paths at import
  'archivetestdata', // test_zipfile's sample archives (findfile(..., subdir='archivetestdata'))
  'test_asyncio/__init__.py',
  'test_asyncio/utils.py',
  'test_asyncio/functional.py',
];

/**
 * Tests that are not run in the sandbox because they would wait forever there, with why. Without
 * threads, `run_in_executor` runs the function at once on the loop's own thread; these functions
 * then wait for the loop (`run_coroutine_threadsafe(...).result()`), which cannot run meanwhile.
 * They count as not passing, for this reason.
 */
export const NOT_RUN_IN_SANDBOX: Readonly<Record<string, string>> = {
  'test.test_asyncio.test_tasks.RunCoroutineThreadsafeTests':
    'threads: an executor function waits for the event loop (deadlock without a second thread)',
};
