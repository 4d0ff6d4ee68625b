// msgmock inspector: reads and steers msgmock through its admin API
// (/__mock/*) and sends messages through the APIs themselves. Plain
// JavaScript, no dependencies, nothing fetched from elsewhere.
'use strict';

const $ = (sel) => document.querySelector(sel);
const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.filter((c) => c !== undefined && c !== null));
  return e;
};

// The documented errors of each API, for the composer's Prefer: code=NNN.
const DOCUMENTED = {
  conversations: { 400: 'invalid request', 401: 'invalid or missing key', 404: 'conversation not found', 429: 'rate limited', 500: 'server error', 503: 'unavailable' },
  workspace: { 401: 'not authenticated', 403: 'workspace not allowed', 404: 'conversation not found', 422: 'validation error', 429: 'rate limited', 500: 'server error', 503: 'unavailable' },
};
const ROLES = { conversations: ['user', 'agent', 'system'], workspace: ['user', 'assistant', 'system'] };
const TOKEN_KEY = 'msgmock.adminToken';
const SESSION_KEY = 'msgmock.session';

const state = {
  session: sessionStorage.getItem(SESSION_KEY) || '',
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  status: null,
  convs: new Map(), // "api:id" -> {api, id, messages: [message], drafts: Map(id -> text)}
  selected: null,   // "api:id"
  journal: [],      // newest last
  journalAfter: '',
  detail: null,     // journal entry id shown
  events: null,     // EventSource
};

// ---- the admin API ----------------------------------------------------------

let tokenPrompt = null;

function askToken(message) {
  if (tokenPrompt) return tokenPrompt;
  const dialog = $('#token-dialog');
  $('#token-error').textContent = message || '';
  $('#token-input').value = '';
  tokenPrompt = new Promise((resolve) => {
    $('#token-form').onsubmit = () => {
      state.token = $('#token-input').value.trim();
      sessionStorage.setItem(TOKEN_KEY, state.token);
      tokenPrompt = null;
      openStream();
      resolve();
    };
  });
  if (!dialog.open) dialog.showModal();
  return tokenPrompt;
}

async function admin(method, path, body) {
  const { res, data } = await adminAnswer(method, path, body === undefined ? undefined : JSON.stringify(body));
  if (!res.ok) throw new Error((data && data.error) || `${res.status} ${res.statusText}`);
  return data;
}

// adminAnswer sends raw (a JSON text, or undefined) and returns the answer
// whatever its status, once the admin token, if one is needed, is given.
async function adminAnswer(method, path, raw) {
  for (;;) {
    const headers = {};
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    if (state.session) headers['X-Mock-Session'] = state.session;
    if (raw !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`/__mock${path}`, { method, headers, body: raw });
    if (res.status === 401) {
      await askToken(state.token ? 'That token was refused.' : '');
      continue;
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = { error: text }; }
    return { res, data };
  }
}

function say(text, isError) {
  const live = $('#live');
  live.textContent = text;
  live.className = 'live' + (isError ? ' error' : '');
}

// ---- status: scenarios, reload, clock, version --------------------------------

function renderStatus(st) {
  state.status = st;
  $('#version').textContent = `${st.version} · fixtures: ${st.fixtures}`;
  // Scenarios.
  $('#server-scenario').textContent = st.server_scenario;
  $('#session-scenario').textContent = st.active_scenario;
  $('#session-scenario-line').hidden = !state.session;
  $('#scenario-scope').hidden = !state.session;
  const list = $('#scenario-list');
  const names = st.scenarios.includes('default') ? st.scenarios : ['default', ...st.scenarios];
  const have = [...list.querySelectorAll('button')].map((b) => b.dataset.name).join('\n');
  if (have !== names.join('\n')) {
    list.replaceChildren(...names.map((n) => el('li', {}, el('button', { type: 'button', dataset: { name: n }, onclick: () => switchScenario(n) }, n))));
    const sel = $('#compose-scenario');
    const keep = sel.value;
    sel.replaceChildren(el('option', { value: '' }, 'the active one'), ...names.map((n) => el('option', { value: n }, n)));
    sel.value = names.includes(keep) ? keep : '';
  }
  for (const b of list.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.name === st.active_scenario));
  // Reload.
  const r = st.reload;
  const summary = $('#reload-summary');
  summary.replaceChildren(
    el('strong', { class: r.ok ? 'ok' : 'error' }, r.ok ? 'Loaded' : 'Last reload failed'),
    ` — generation ${st.generation}, ${st.loaded.files} files, ${st.loaded.scenarios} scenarios, ${st.loaded.conversations} conversations; at `,
    el('time', { datetime: r.at }, r.at),
    r.ok ? '' : '. The server keeps the last good fixtures.');
  $('#reload-errors').replaceChildren(...r.errors.map((e) => el('li', {}, e)));
  // The session's rate-limit windows.
  const rl = st.rate_limits || { windows: [] };
  $('#rate-limits').hidden = rl.windows.length === 0;
  $('#rate-limits-count').textContent = `(${rl.windows.length} in this session, ${rl.total} in all${rl.evicted ? `, ${rl.evicted} evicted` : ''})`;
  $('#rate-limit-list').replaceChildren(...rl.windows.map((w) => el('li', { dataset: { name: w.name } },
    el('strong', {}, `${w.scope}/${w.name}`), ` ${w.key_kind} ${w.key || '(default session)'}: `,
    el('span', { class: w.remaining > 0 ? 'ok' : 'error' }, `${w.remaining} of ${w.limit} ${w.unit} left`),
    `, ${w.type === 'bucket' ? 'full' : 'resets'} in ${(w.reset_ms / 1000).toFixed(1)} s`)));
  // The composer's key.
  const key = $('#compose-key');
  // The keys come masked unless settings.security.mask_credentials is false.
  if (!key.value) key.value = st.auth.keys.find((k) => !k.includes('(fp ')) || 'sk_test_inspector';
}

function renderClock(c) {
  const now = $('#clock-now');
  now.textContent = c.now;
  now.setAttribute('datetime', c.now);
  $('#clock-mode').textContent = c.mode === 'virtual' ? 'virtual' : (c.frozen ? 'frozen' : 'wall');
}

async function switchScenario(name) {
  const serverWide = !state.session || document.querySelector('input[name=scope]:checked').value === 'server';
  try {
    if (serverWide && state.session) {
      const saved = state.session;
      state.session = '';
      try { await admin('PUT', '/scenario', { name }); } finally { state.session = saved; }
    } else {
      await admin('PUT', '/scenario', { name });
    }
    say(`Scenario ${name} active ${serverWide ? 'server-wide' : `in session ${state.session}`}.`);
    renderStatus(await admin('GET', '/status'));
  } catch (e) { say(e.message, true); }
}

// ---- conversations ---------------------------------------------------------------

const convKey = (api, id) => `${api}:${id}`;

function messageView(api, m) {
  return api === 'workspace'
    ? { id: m.id, who: m.role, sender: m.sender_id, text: m.content, at: m.created_at }
    : { id: m.id, who: m.sender_type, sender: m.sender_id, text: m.text, at: m.created_at };
}

function conv(api, id) {
  const k = convKey(api, id);
  let c = state.convs.get(k);
  if (!c) {
    c = { api, id, messages: [], drafts: new Map() };
    state.convs.set(k, c);
  }
  return c;
}

async function loadConversations() {
  const data = await admin('GET', '/conversations');
  state.convs.clear();
  for (const c of data.conversations) {
    const into = conv(c.api, c.id);
    into.messages = c.messages.map((m) => messageView(c.api, m));
  }
  if (!state.selected || !state.convs.has(state.selected)) {
    const first = state.convs.values().next().value;
    state.selected = first ? convKey(first.api, first.id) : null;
  }
  renderConversations();
}

function renderConversations() {
  const list = $('#conversation-list');
  const focused = document.activeElement && document.activeElement.dataset.conv;
  list.replaceChildren(...[...state.convs.values()].map((c) => {
    const k = convKey(c.api, c.id);
    return el('li', {}, el('button', {
      type: 'button', dataset: { conv: k }, 'aria-current': String(k === state.selected),
      onclick: () => { state.selected = k; renderConversations(); composerFollow(c); },
    }, el('span', {}, c.id), el('span', { class: 'api' }, `${c.api === 'workspace' ? 'WS' : 'CONV'} · ${c.messages.length}`)));
  }));
  if (focused) { const b = list.querySelector(`[data-conv="${CSS.escape(focused)}"]`); if (b) b.focus(); }
  renderThread();
  renderComposerConversations();
}

function renderThread() {
  const c = state.selected && state.convs.get(state.selected);
  $('#conversation-title').textContent = c ? `${c.id} (${c.api === 'workspace' ? 'Workspace API' : 'Conversations API'})` : 'No conversation selected';
  const ol = $('#messages');
  if (!c) { ol.replaceChildren(); return; }
  const items = c.messages.map((m) => messageItem(m, false));
  for (const [id, d] of c.drafts) items.push(messageItem({ id, who: d.who, sender: '', text: d.text, at: '' }, true));
  ol.replaceChildren(...items);
  ol.scrollTop = ol.scrollHeight;
}

function messageItem(m, streaming) {
  return el('li', { class: `msg ${m.who || ''}${streaming ? ' streaming' : ''}`, dataset: { id: m.id } },
    el('div', { class: 'meta' }, `${m.who || '?'}${m.sender ? ' · ' + m.sender : ''}${m.at ? ' · ' + m.at : ''}${streaming ? ' · streaming' : ''}`),
    el('div', { class: 'text' }, m.text == null ? '' : String(m.text)));
}

function onEvent(type, ev) {
  const { api } = ev;
  if (type === 'message.delta') {
    const d = ev.data;
    const c = conv(api, d.conversation_id);
    const draft = c.drafts.get(d.message_id) || { who: api === 'workspace' ? 'assistant' : 'agent', text: '' };
    draft.text += d.delta;
    c.drafts.set(d.message_id, draft);
    const k = convKey(api, d.conversation_id);
    if (k === state.selected) {
      const item = $(`#messages [data-id="${CSS.escape(d.message_id)}"] .text`);
      if (item) item.textContent = draft.text; else renderThread();
    } else if (c.messages.length === 0 && c.drafts.size === 1) renderConversations();
    return;
  }
  // The Conversations API wraps its message with the conversation's id.
  const m = api === 'workspace' ? ev.data : ev.data.message;
  const cid = api === 'workspace' ? m.conversation_id : ev.data.conversation_id;
  const c = conv(api, cid);
  c.drafts.delete(m.id);
  if (!c.messages.some((x) => x.id === m.id)) c.messages.push(messageView(api, m));
  if (!state.selected) state.selected = convKey(api, cid);
  renderConversations();
}

function openStream() {
  if (state.events) state.events.close();
  const q = new URLSearchParams();
  if (state.session) q.set('session', state.session);
  if (state.token) q.set('access_token', state.token);
  const es = new EventSource(`/__mock/events/stream?${q}`);
  state.events = es;
  let failed = false;
  for (const type of ['message.created', 'message.delta']) {
    es.addEventListener(type, (e) => onEvent(type, JSON.parse(e.data)));
  }
  es.onopen = () => {
    if (failed) loadConversations().catch(() => {}); // catch up on what the gap missed
    failed = false;
    say('Live.');
  };
  es.onerror = () => { failed = true; say('Reconnecting to msgmock…', true); };
}

// ---- the composer --------------------------------------------------------------

const composerAPI = () => document.querySelector('input[name=api]:checked').value;

function renderComposerConversations() {
  const api = composerAPI();
  const sel = $('#compose-conversation');
  const keep = sel.value;
  const ids = [...state.convs.values()].filter((c) => c.api === api).map((c) => c.id);
  sel.replaceChildren(el('option', { value: '' }, 'a new conversation'), ...ids.map((id) => el('option', { value: id }, id)));
  const selected = state.selected && state.convs.get(state.selected);
  if (ids.includes(keep)) sel.value = keep;
  else if (selected && selected.api === api) sel.value = selected.id;
}

function composerFollow(c) {
  document.querySelector(`input[name=api][value=${c.api}]`).checked = true;
  renderComposerOptions();
  $('#compose-conversation').value = c.id;
}

function renderComposerOptions() {
  const api = composerAPI();
  const role = $('#compose-role');
  role.replaceChildren(...ROLES[api].map((r) => el('option', { value: r }, r)));
  const prefer = $('#compose-prefer');
  prefer.replaceChildren(el('option', { value: '' }, "the scenario's"),
    ...Object.entries(DOCUMENTED[api]).map(([code, what]) => el('option', { value: code }, `${code} ${what}`)));
  renderComposerConversations();
}

async function send(e) {
  e.preventDefault();
  const api = composerAPI();
  const conversation = $('#compose-conversation').value;
  const sender = $('#compose-sender').value;
  const role = $('#compose-role').value;
  const text = $('#compose-text').value;
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${$('#compose-key').value}` };
  if (state.session) headers['X-Mock-Session'] = state.session;
  if ($('#compose-scenario').value) headers['X-Mock-Scenario'] = $('#compose-scenario').value;
  if ($('#compose-prefer').value) headers.Prefer = `code=${$('#compose-prefer').value}`;
  let path;
  let body;
  if (api === 'workspace') {
    path = '/api/v1/messages';
    body = { content: { content: text, sender_id: sender, role } };
    if (conversation) body.conversation_id = conversation;
  } else {
    path = '/v1/messages';
    body = { sender_id: sender, sender_type: role, text };
    if (conversation) body.conversation_id = conversation;
  }
  const button = $('#compose-send');
  button.disabled = true;
  try {
    const res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
    const raw = await res.text();
    let shown = raw;
    let parsed = null;
    try { parsed = JSON.parse(raw); shown = JSON.stringify(parsed, null, 2); } catch { /* not JSON */ }
    $('#compose-result').hidden = false;
    const status = $('#compose-status');
    status.textContent = `${res.status} ${res.statusText} — POST ${path}`;
    status.className = `status-${String(res.status)[0]}`;
    $('#compose-body').textContent = shown;
    // Follow the conversation the message went to.
    const created = api === 'workspace' ? (Array.isArray(parsed) && parsed[0]) : (parsed && parsed.data);
    if (res.ok && created && created.conversation_id) {
      state.selected = convKey(api, created.conversation_id);
      conv(api, created.conversation_id);
      renderConversations();
      $('#compose-conversation').value = created.conversation_id;
    }
  } catch (err) {
    $('#compose-result').hidden = false;
    $('#compose-status').textContent = `No answer: ${err.message}`;
    $('#compose-status').className = 'status-0';
    $('#compose-body').textContent = '';
  } finally {
    button.disabled = false;
    pollJournal().catch(() => {});
  }
}

// ---- the request journal --------------------------------------------------------

const JOURNAL_ROWS = 500;

async function pollJournal() {
  const q = state.journalAfter ? `?after=${state.journalAfter}` : '';
  const data = await admin('GET', `/requests${q}`);
  if (!data.requests.length) return;
  state.journal.push(...data.requests);
  state.journalAfter = data.requests[data.requests.length - 1].id;
  if (state.journal.length > JOURNAL_ROWS) state.journal.splice(0, state.journal.length - JOURNAL_ROWS);
  renderJournal();
}

function renderJournal() {
  const rows = state.journal.slice().reverse().map((r) => el('tr', { class: r.id === state.detail ? 'selected' : '', dataset: { id: r.id } },
    el('td', {}, el('time', { datetime: r.at }, r.at.slice(11, 23))),
    el('td', {}, r.method),
    el('td', { class: 'path', title: r.path + (r.query ? '?' + r.query : '') },
      el('button', { type: 'button', class: 'link', onclick: () => showDetail(r.id) }, r.path + (r.query ? '?' + r.query : ''))),
    el('td', { class: `status-${String(r.status)[0]}` }, String(r.status)),
    el('td', {}, r.scenario),
    r.unmatched
      ? el('td', { class: 'unmatched', title: 'no rule answered it' }, r.near_misses ? `none · ${r.near_misses.length} near` : 'none')
      : el('td', {}, r.rule),
    el('td', { class: 'num' }, r.duration_ms.toFixed(1))));
  $('#journal tbody').replaceChildren(...rows);
}

function headerLines(h) {
  return Object.keys(h).sort().map((k) => `${k}: ${h[k]}`).join('\n');
}

function bodyText(b) {
  if (b === null || b === undefined) return '(no body)';
  return typeof b === 'string' ? b : JSON.stringify(b, null, 2);
}

function showDetail(id) {
  const r = state.journal.find((x) => x.id === id);
  if (!r) return;
  state.detail = id;
  renderJournal();
  $('#request-detail').hidden = false;
  $('#detail-title').textContent = `${r.id}: ${r.method} ${r.path}${r.query ? '?' + r.query : ''} → ${r.status}`;
  $('#detail-req-headers').textContent = headerLines(r.headers) + (r.headers_truncated ? '\n(headers cut by the journal)' : '');
  $('#detail-req-body').textContent = bodyText(r.body) + (r.body_truncated ? '\n(body cut at 16 KiB by the journal)' : '');
  const misses = r.near_misses || [];
  $('#detail-near-misses').hidden = misses.length === 0;
  $('#detail-near-list').replaceChildren(...misses.map((m) => el('li', {}, `${m.scenario}/${m.rule}: ${differencesText(m.differences)}`)));
  $('#detail-resp-headers').textContent = headerLines(r.response.headers);
  $('#detail-resp-body').textContent = bodyText(r.response.body) + (r.response.body_truncated ? '\n(body cut at 16 KiB by the journal)' : '');
  $('#curl').value = 'loading…';
  $('#copy-state').textContent = '';
  curlFor(r).then((cmd) => { if (state.detail === id) $('#curl').value = cmd; });
}

// differencesText writes what differed as the reports do:
// text: expected {"contains":"invoice"}, got "Hello"; …
function differencesText(diffs) {
  const shown = (v) => (v === null || v === undefined ? 'none' : JSON.stringify(v));
  return diffs.map((d) => `${d.field}: expected ${shown(d.expected)}, got ${shown(d.actual)}`).join('; ');
}

// ---- verification ----------------------------------------------------------------

async function runVerify(e) {
  e.preventDefault();
  const button = $('#verify-run');
  button.disabled = true;
  try {
    const { res, data } = await adminAnswer('POST', '/verify', $('#verify-body').value);
    let line;
    let ok = false;
    let ids = [];
    let report = '';
    if (res.ok) {
      line = `Holds: ${data.matched} matching request${data.matched === 1 ? '' : 's'}.`;
      ok = true;
      ids = data.ids;
    } else if (res.status === 422) {
      line = `Does not hold (${data.failures.length} failure${data.failures.length === 1 ? '' : 's'}).`;
      ids = data.failures.flatMap((f) => f.closest.map((c) => c.id));
      report = data.report;
    } else {
      line = `Not a verification (${res.status}): ${(data && data.error) || res.statusText}`;
      report = ((data && data.errors) || []).join('\n');
    }
    // The requests it names open in the journal's detail view: the
    // journal catches up first.
    await pollJournal().catch(() => {});
    $('#verify-ids').replaceChildren(...[...new Set(ids)].map((id) => el('li', {},
      el('button', { type: 'button', dataset: { id }, onclick: () => showDetail(id) }, id))));
    $('#verify-report').textContent = report;
    const status = $('#verify-status');
    status.textContent = line;
    status.className = ok ? 'ok' : 'error';
    $('#verify-result').hidden = false;
  } catch (err) {
    say(err.message, true);
  } finally {
    button.disabled = false;
  }
}

// Headers curl sets itself or that describe this connection only.
const NOT_REPLAYED = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'accept-encoding', 'te', 'upgrade']);

const shellQuote = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;

// A credential the journal masked ("Bearer sk_t…3456 (fp 1a2b3c4d)") is
// replayed from a shell variable, which bash refuses to leave unset with a
// message naming the key it stands for.
const MASKED = /^((?:Bearer|Basic|Token) )?(\S*…\S* )?\(fp ([0-9a-f]{8})\)$/i;

function headerArg(k, v) {
  const m = MASKED.exec(v);
  if (!m) return `-H ${shellQuote(`${k}: ${v}`)}`;
  const name = k.toLowerCase() === 'authorization' ? 'API_KEY' : k.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  const hint = `set ${name} to the credential ${(m[2] || '').trim()} (fp ${m[3]})`.replace(/[^\w .…()-]/g, '');
  return `-H "${k}: ${m[1] || ''}\${${name}:?${hint}}"`;
}

async function curlFor(r) {
  const url = `${location.origin}${r.path}${r.query ? '?' + r.query : ''}`;
  const parts = [`curl -i -X ${r.method} ${shellQuote(url)}`];
  for (const k of Object.keys(r.headers).sort()) {
    if (!NOT_REPLAYED.has(k.toLowerCase())) parts.push(headerArg(k, r.headers[k]));
  }
  if (r.body !== null && r.body !== undefined) {
    // The body exactly as it arrived (JSON re-encoded here could change
    // numbers or spacing).
    const res = await fetch(`/__mock/requests/${r.id}/body`, { headers: adminHeaders() });
    const raw = res.ok ? await res.text() : bodyText(r.body);
    parts.push(`--data-raw ${shellQuote(raw)}`);
  }
  return parts.join(' \\\n  ');
}

function adminHeaders() {
  const h = {};
  if (state.token) h.Authorization = `Bearer ${state.token}`;
  if (state.session) h['X-Mock-Session'] = state.session;
  return h;
}

async function copyCurl() {
  const area = $('#curl');
  area.focus();
  area.select();
  let copied = false;
  try { await navigator.clipboard.writeText(area.value); copied = true; } catch { /* no clipboard permission */ }
  if (!copied) { try { copied = document.execCommand('copy'); } catch { copied = false; } }
  $('#copy-state').textContent = copied ? 'Copied.' : 'Selected: press Ctrl+C to copy.';
}

// ---- webhooks ----------------------------------------------------------------------

function renderDeliveries(list) {
  $('#webhooks-empty').hidden = list.length > 0;
  $('#deliveries').hidden = list.length === 0;
  $('#deliveries tbody').replaceChildren(...list.slice().reverse().map((d) => el('tr', {},
    el('td', {}, el('time', { datetime: d.at }, d.at)),
    el('td', {}, d.event_id),
    el('td', { class: 'path', title: d.url }, d.url),
    el('td', { class: 'num' }, String(d.attempt)),
    el('td', { class: `status-${String(d.status)[0]}` }, d.pending ? 'in flight' : String(d.status || '—')),
    el('td', {}, d.error || ''),
    el('td', { class: 'num' }, d.duration_ms.toFixed(1)),
    el('td', {}, d.next_retry_at || ''))));
}

// ---- sessions ------------------------------------------------------------------------

function renderSessions(ids) {
  const sel = $('#session');
  const all = ids.includes(state.session) || !state.session ? ids : [state.session, ...ids];
  const have = [...sel.options].map((o) => o.value).join('\n');
  const want = ['', ...all].join('\n');
  if (have !== want) sel.replaceChildren(el('option', { value: '' }, 'default'), ...all.map((id) => el('option', { value: id }, id)));
  sel.value = state.session;
}

async function useSession(id) {
  state.session = id;
  sessionStorage.setItem(SESSION_KEY, id);
  state.journal = [];
  state.journalAfter = '';
  state.detail = null;
  state.selected = null;
  $('#request-detail').hidden = true;
  renderJournal();
  openStream();
  await Promise.all([loadConversations(), refresh(true)]);
  say(id ? `Session ${id}.` : 'Default session.');
}

// ---- the loop ------------------------------------------------------------------------

let ticks = 0;

async function refresh(all) {
  const jobs = [
    admin('GET', '/status').then(renderStatus),
    admin('GET', '/clock').then(renderClock),
    admin('GET', '/webhooks/deliveries').then((d) => renderDeliveries(d.deliveries)),
    pollJournal(),
  ];
  if (all || ticks % 5 === 0) jobs.push(admin('GET', '/sessions').then((d) => renderSessions(d.sessions)));
  await Promise.all(jobs);
}

async function loop() {
  if (!document.hidden && !tokenPrompt) {
    try {
      await refresh(false);
      if ($('#live').classList.contains('error') && state.events && state.events.readyState === 1) say('Live.');
    } catch (e) {
      say(`msgmock did not answer: ${e.message}`, true);
    }
  }
  ticks++;
  setTimeout(loop, 1000);
}

function wire() {
  $('#composer').addEventListener('submit', send);
  $('#compose-text').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) $('#composer').requestSubmit(); });
  for (const r of document.querySelectorAll('input[name=api]')) r.addEventListener('change', renderComposerOptions);
  $('#journal-clear').addEventListener('click', async () => {
    await admin('DELETE', '/requests');
    state.journal = []; state.detail = null;
    $('#request-detail').hidden = true;
    renderJournal();
  });
  $('#copy-curl').addEventListener('click', copyCurl);
  $('#verify-form').addEventListener('submit', runVerify);
  $('#reset').addEventListener('click', async () => {
    try {
      await admin('POST', '/reset');
      state.journal = []; state.journalAfter = ''; state.detail = null;
      $('#request-detail').hidden = true;
      renderJournal();
      await Promise.all([loadConversations(), refresh(true)]);
      say(state.session ? `Session ${state.session} reset.` : 'Reset.');
    } catch (e) { say(e.message, true); }
  });
  $('#session').addEventListener('change', (e) => useSession(e.target.value));
  $('#session-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = $('#session-name').value.trim();
    $('#session-name').value = '';
    useSession(id).catch((err) => say(err.message, true));
  });
  $('#clock-advance').addEventListener('submit', (e) => { e.preventDefault(); moveClock({ advance: $('#clock-by').value.trim() }); });
  $('#clock-set').addEventListener('submit', (e) => { e.preventDefault(); moveClock({ now: $('#clock-to').value.trim() }); });
  $('#har-file').addEventListener('change', (e) => { if (e.target.files[0]) importHAR(e.target.files[0]).catch((err) => say(err.message, true)); });
  const drop = $('#har-drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer.files[0]) importHAR(e.dataTransfer.files[0]).catch((err) => say(err.message, true));
  });
}

// ---- HAR import ------------------------------------------------------------------------

async function importHAR(file) {
  const out = $('#har-result');
  out.hidden = false;
  $('#har-summary').textContent = `Reading ${file.name}…`;
  $('#har-notes').replaceChildren();
  $('#har-actions').replaceChildren();
  const headers = {};
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const res = await fetch(`/__mock/import/har?source=${encodeURIComponent(file.name)}`, { method: 'POST', headers, body: await file.text() });
  if (res.status === 401) { await askToken(''); return importHAR(file); }
  const data = await res.json();
  const sum = data.summary;
  if (!res.ok && !sum) { $('#har-summary').textContent = data.error; say(data.error, true); return; }
  $('#har-summary').textContent = `${file.name}: ${sum.entries} entries read, ${sum.used.length} used, ${sum.skipped.length} skipped` +
    (res.ok ? ` — scenario ${data.scenario}: ${sum.rules} rules, ${sum.conversations} conversations, ${sum.messages} messages.` : `: ${data.error}.`);
  for (const w of sum.warnings || []) $('#har-notes').append(el('li', { className: 'warning' }, w));
  for (const n of sum.skipped) $('#har-notes').append(el('li', {}, `skipped #${n.index} ${n.method} ${n.url}: ${n.note}`));
  if (!res.ok) return;
  for (const f of data.files) {
    const a = el('a', { href: URL.createObjectURL(new Blob([f.content], { type: 'application/yaml' })), download: f.name }, `Download ${f.name}`);
    $('#har-actions').append(a);
  }
  const use = el('button', { type: 'button' }, `Use ${data.scenario} in this session`);
  use.addEventListener('click', async () => {
    try {
      const yaml = data.files[data.files.length - 1].content;
      const put = { Authorization: headers.Authorization, 'Content-Type': 'application/yaml' };
      if (state.session) put['X-Mock-Session'] = state.session;
      const r = await fetch(`/__mock/scenarios/${encodeURIComponent(data.scenario)}`, { method: 'PUT', headers: put, body: yaml });
      if (!r.ok) throw new Error((await r.json()).error);
      await switchScenario(data.scenario);
      say(`Scenario ${data.scenario} added and active${state.session ? ` in session ${state.session}` : ''}; add ${data.files[0].name} to your fixtures to preload its conversations.`);
    } catch (e) { say(e.message, true); }
  });
  $('#har-actions').append(use);
}

async function moveClock(body) {
  try { renderClock(await admin('POST', '/clock', body)); say(`Clock at ${$('#clock-now').textContent}.`); } catch (e) { say(e.message, true); }
}

async function main() {
  wire();
  renderComposerOptions();
  openStream();
  try {
    await Promise.all([loadConversations(), refresh(true)]);
  } catch (e) {
    say(`msgmock did not answer: ${e.message}`, true);
  }
  setTimeout(loop, 1000);
}

main();
