/**
 * Python for tests of what a guest may do to files: `attempt(action)` runs `action` and returns
 * "allowed", or the errno name (EROFS, ENOENT, ...) of the OSError it raised.
 */
export const DEFINE_ATTEMPT = [
  'import errno, os',
  'def attempt(action):',
  '    try:',
  '        action()',
  '        return "allowed"',
  '    except OSError as e:',
  '        return errno.errorcode.get(e.errno, str(e.errno))',
].join('\n');
