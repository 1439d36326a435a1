/** The playground's HTML page: no framework, no CDN, no build step. Its script is script.ts. */
export const PLAYGROUND_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>component-sandbox playground</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; color: #1d1d1f; }
  h1 { font-size: 1.3rem; margin: 0 0 1rem; }
  fieldset { border: 1px solid #ccc; border-radius: 6px; margin: 0 0 1rem; display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; }
  textarea { width: 100%; box-sizing: border-box; min-height: 10rem; font: 14px/1.4 ui-monospace, monospace; padding: .5rem; }
  button { font: inherit; padding: .3rem .9rem; }
  .actions { display: flex; gap: .5rem; margin: .5rem 0 1rem; align-items: center; }
  dl { display: grid; grid-template-columns: 6rem 1fr; gap: .3rem 1rem; margin: 0; }
  dt { font-weight: 600; }
  dd { margin: 0; }
  pre { margin: 0; white-space: pre-wrap; word-break: break-word; font: 14px/1.4 ui-monospace, monospace; background: #f5f5f7; padding: .3rem .5rem; border-radius: 4px; min-height: 1.2rem; }
  #error { color: #b00020; }
  .hint { color: #666; font-size: 13px; }
</style>
</head>
<body>
<h1>component-sandbox playground</h1>
<fieldset>
  <legend>Session</legend>
  <label>Language <select id="language"><option value="python">python</option><option value="javascript">javascript</option></select></label>
  <label>API key <input id="api-key" type="password" autocomplete="off" placeholder="only if the server has keys"></label>
  <span>Session: <code id="session-id">none</code> <span id="session-state"></span></span>
  <button id="new-session" type="button">New session</button>
  <button id="reset-session" type="button">Reset</button>
</fieldset>
<label for="code">Code</label>
<textarea id="code" spellcheck="false" placeholder="2 + 2"></textarea>
<div class="actions">
  <button id="run" type="button" title="Evaluate as an expression; if it is not one, run it as statements (Ctrl+Enter)">Run</button>
  <button id="exec" type="button">Exec</button>
  <button id="eval" type="button">Eval</button>
  <button id="stop" type="button" disabled title="Stop the running call (a Python session keeps its globals when the soft stop catches it)">Stop</button>
  <span class="hint">Globals persist within the session. Run = eval, or exec when the code is not an expression.</span>
</div>
<dl>
  <dt>status</dt><dd><pre id="status"></pre></dd>
  <dt>value</dt><dd><pre id="value"></pre></dd>
  <dt>stdout</dt><dd><pre id="stdout"></pre></dd>
  <dt>stderr</dt><dd><pre id="stderr"></pre></dd>
  <dt>error</dt><dd><pre id="error"></pre></dd>
</dl>
<script src="/playground.js" type="module"></script>
</body>
</html>
`;
