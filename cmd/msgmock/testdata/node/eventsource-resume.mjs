// Follows a streamed reply with the `eventsource` package, as a Node app
// would, while msgmock drops the stream mid-way: node eventsource-resume.mjs BASE_URL
//
// It opens GET /v1/events/stream, sends a message once the stream is open,
// moves msgmock's virtual clock so that the reply streams, and lets the
// EventSource reconnect (with Last-Event-ID) when the connection drops.
// It prints one JSON line: the deltas it got, the reply's text, how many
// times the stream opened, and the ids it saw more than once.
import { EventSource } from 'eventsource';

const base = process.argv[2];
const key = 'sk_test_51_fakeapikey123456';
const deltas = [];
const seen = new Set();
const repeated = [];
let opens = 0;

const timer = setTimeout(() => {
  console.error(`no reply after 20s; deltas so far: ${JSON.stringify(deltas)}, opens: ${opens}`);
  process.exit(1);
}, 20000);

const es = new EventSource(`${base}/v1/events/stream?access_token=${key}`);
const note = (e) => {
  if (seen.has(e.lastEventId)) repeated.push(e.lastEventId);
  seen.add(e.lastEventId);
};
es.addEventListener('open', async () => {
  opens++;
  if (opens > 1) return;
  const sent = await fetch(`${base}/v1/messages`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sender_id: 'usr_82hd92', sender_type: 'user', text: 'Tell me a story' }),
  });
  if (!sent.ok) throw new Error(`send: ${sent.status}`);
  const moved = await fetch(`${base}/__mock/clock`, { method: 'POST', body: JSON.stringify({ advance: '1m' }) });
  if (!moved.ok) throw new Error(`clock: ${moved.status}`);
});
es.addEventListener('message.delta', (e) => {
  note(e);
  deltas.push(JSON.parse(e.data).data.delta);
});
es.addEventListener('message.created', (e) => {
  note(e);
  const msg = JSON.parse(e.data).data.message;
  if (msg.sender_type !== 'agent') return;
  clearTimeout(timer);
  es.close();
  console.log(JSON.stringify({ deltas, text: msg.text, opens, repeated }));
});
