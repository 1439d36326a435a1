/**
 * The playground's browser script, served as /playground.js. Plain JavaScript in a string, so
 * that it needs no bundler; it only calls the public HTTP API.
 */
export const PLAYGROUND_JS = String.raw`
const $ = (id) => document.getElementById(id);
const els = {
  language: $('language'), key: $('api-key'), sessionId: $('session-id'), sessionState: $('session-state'),
  code: $('code'), status: $('status'), value: $('value'), stdout: $('stdout'), stderr: $('stderr'), error: $('error'),
};
let session = null;

els.key.value = sessionStorage.getItem('component-sandbox-key') || '';
els.key.addEventListener('change', () => { sessionStorage.setItem('component-sandbox-key', els.key.value); loadLanguages(); });
els.language.addEventListener('change', () => forgetSession());

async function api(method, path, body) {
  const headers = {};
  if (els.key.value) headers.authorization = 'Bearer ' + els.key.value;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  return { ok: response.ok, status: response.status, data };
}

function show(fields) {
  for (const name of ['status', 'value', 'stdout', 'stderr', 'error']) els[name].textContent = fields[name] ?? '';
}

function showError(response) {
  const error = response.data && response.data.error;
  show({ status: 'HTTP ' + response.status, error: error ? error.code + ': ' + error.message : 'request failed' });
}

function showSession() {
  els.sessionId.textContent = session ? session.id : 'none';
  els.sessionState.textContent = session ? '(' + session.language + ', ' + session.state +
    (session.deadReason ? ': ' + session.deadReason.status : '') + ')' : '';
}

function forgetSession() {
  if (session) api('DELETE', '/v1/sessions/' + encodeURIComponent(session.id)).catch(() => {});
  session = null;
  showSession();
}

async function loadLanguages() {
  const response = await api('GET', '/v1/languages');
  if (!response.ok) {
    document.body.dataset.languages = 'failed';
    if (response.status === 401) show({ status: 'API key needed', error: 'enter this server\'s API key above' });
    return;
  }
  const current = els.language.value;
  els.language.textContent = '';
  for (const language of response.data.languages) {
    const option = document.createElement('option');
    option.value = language.name;
    option.textContent = language.name + (language.available ? '' : ' (unavailable)');
    option.disabled = !language.available;
    els.language.append(option);
  }
  const available = response.data.languages.filter((l) => l.available).map((l) => l.name);
  const preferred = available.includes(current) ? current : available.includes(response.data.default) ? response.data.default : available[0];
  if (preferred) els.language.value = preferred;
  document.body.dataset.languages = 'loaded';
  if (els.status.textContent === 'API key needed') show({});
}

async function ensureSession() {
  if (session && session.language === els.language.value) return true;
  forgetSession();
  const response = await api('POST', '/v1/sessions', { language: els.language.value });
  if (!response.ok) { showError(response); return false; }
  session = response.data;
  showSession();
  return true;
}

// A call streams (NDJSON): output lines as the guest writes them, the result (or an error) last.
async function streamCall(kind, code) {
  const field = kind === 'exec' ? 'statements' : 'expression';
  const headers = { 'content-type': 'application/json', accept: 'application/x-ndjson' };
  if (els.key.value) headers.authorization = 'Bearer ' + els.key.value;
  const response = await fetch('/v1/sessions/' + encodeURIComponent(session.id) + '/' + kind,
    { method: 'POST', headers, body: JSON.stringify({ [field]: code }) });
  if (!(response.headers.get('content-type') || '').startsWith('application/x-ndjson')) {
    const text = await response.text();
    return { ok: response.ok, status: response.status, data: text ? JSON.parse(text) : null };
  }
  els.stdout.textContent = '';
  els.stderr.textContent = '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  let last = null;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffered.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffered.slice(0, cut));
      buffered = buffered.slice(cut + 1);
      if (line.type === 'stdout') els.stdout.textContent += line.data;
      else if (line.type === 'stderr') els.stderr.textContent += line.data;
      else last = line;
    }
  }
  if (!last) return { ok: false, status: response.status, data: null };
  if (last.type === 'error') return { ok: false, status: 500, data: { error: last.error } };
  const { type: _type, ...result } = last;
  return { ok: true, status: 200, data: result };
}

async function call(kind, code) {
  let response = await streamCall(kind, code);
  if (response.status === 404) {
    session = null; // expired: start a new one and try once more
    if (!(await ensureSession())) return null;
    response = await streamCall(kind, code);
  }
  return response;
}

async function stop() {
  if (!session) return;
  const response = await api('POST', '/v1/sessions/' + encodeURIComponent(session.id) + '/cancel');
  if (!response.ok) showError(response);
}

async function run(mode) {
  const code = els.code.value;
  show({ status: 'running...' });
  $('stop').disabled = false;
  document.body.dataset.running = 'true';
  try {
    if (!(await ensureSession())) return;
    let response = await call(mode === 'exec' ? 'exec' : 'eval', code);
    if (response && mode === 'run' && response.ok && response.data.status === 'eval_error' &&
        response.data.error && response.data.error.type === 'SyntaxError') {
      response = await call('exec', code); // not an expression: run it as statements
    }
    if (!response) return;
    if (!response.ok) { showError(response); return; }
    const result = response.data;
    session = result.session;
    showSession();
    show({
      status: result.status + ' (' + result.durationMs.toFixed(1) + ' ms)',
      value: 'json' in result ? result.json : '',
      stdout: result.stdout,
      stderr: result.stderr,
      error: result.error ? result.error.message : '',
    });
  } catch (error) {
    show({ status: 'failed', error: String(error) });
  } finally {
    $('stop').disabled = true;
    document.body.dataset.running = 'false';
  }
}

async function reset() {
  if (!session) return;
  const response = await api('POST', '/v1/sessions/' + encodeURIComponent(session.id) + '/reset');
  if (!response.ok) { showError(response); return; }
  session = response.data;
  showSession();
  show({ status: 'session reset' });
}

$('run').addEventListener('click', () => run('run'));
$('exec').addEventListener('click', () => run('exec'));
$('eval').addEventListener('click', () => run('eval'));
$('stop').addEventListener('click', () => stop());
$('new-session').addEventListener('click', () => { forgetSession(); ensureSession(); });
$('reset-session').addEventListener('click', () => reset());
els.code.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) { event.preventDefault(); run('run'); }
});
loadLanguages();
`;
