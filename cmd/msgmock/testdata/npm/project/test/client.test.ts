// The client's own behaviour, beyond the README's recipes: what its errors
// say, the admin token, the environment it gives the binary, sessions, the
// clock, stop, and verify().
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectMsgmock, MsgmockError, MsgmockVerifyError, startMsgmock, type Msgmock, type StartedMsgmock } from 'msgmock';

const auth = { Authorization: 'Bearer sk_test_51_fakeapikey123456', 'Content-Type': 'application/json' };

function send(mock: { url: string }, text: string, headers: Record<string, string> = {}) {
  return fetch(`${mock.url}/v1/messages`, {
    method: 'POST',
    headers: { ...auth, ...headers },
    body: JSON.stringify({ sender_id: 'usr_82hd92', sender_type: 'user', text, auto_reply: false }),
  });
}

describe('a refused call says which, and msgmock\'s reason', () => {
  let mock: StartedMsgmock;
  beforeAll(async () => {
    mock = await startMsgmock();
  });
  afterAll(() => mock.stop());

  test.each<[string, (m: Msgmock) => Promise<unknown>, number, string]>([
    ['an unknown scenario', (m) => m.scenario('nope'), 404, 'msgmock: PUT /__mock/scenario answered 404: no scenario "nope"'],
    ['a session\'s unknown scenario', (m) => m.session('s1').scenario('nope'), 404, 'msgmock: PUT /__mock/scenario (session s1) answered 404'],
    ['a scenario with problems', (m) => m.addScenario('bad', 'rules: [{when: {colour: x}}]'), 400,
      'msgmock: PUT /__mock/scenarios/bad answered 400: scenario "bad" has problems\n  scenarios/bad:1:9: rules[0] does nothing'],
    ['a duration that is none', (m) => m.advance('soon'), 400, 'msgmock: POST /__mock/clock answered 400: advance must be a duration'],
    ['a journal limit of 0', (m) => m.journal({ limit: 0 }), 400, 'msgmock: GET /__mock/requests answered 400: limit must be a positive whole number'],
    ['removing what was never added', (m) => m.removeScenario('never'), 404, 'msgmock: DELETE /__mock/scenarios/never answered 404: no scenario "never" was added'],
  ])('%s', async (_, call, status, message) => {
    const err = await call(mock).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MsgmockError);
    expect(err).toMatchObject({ status });
    expect((err as Error).message).toContain(message);
  });
});

test('a msgmock that cannot start: the error quotes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'msgmock-fixtures-'));
  writeFileSync(join(dir, 'c.yaml'), 'conversations:\n  - id: con_a\n    colour: blue\n');
  const err = await startMsgmock({ fixtures: dir }).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(MsgmockError);
  expect((err as Error).message).toMatch(/^msgmock: exited \(status 2\) before it listened \(.*serve --addr 127\.0\.0\.1:0 --fixtures /);
  expect((err as Error).message).toContain('c.yaml:3:5: unknown key "colour"');
});

test('no answer: the error says where it asked', async () => {
  const mock = await startMsgmock();
  await mock.stop();
  await mock.stop(); // a second stop is harmless
  const err = await mock.journal().then(() => undefined, (e: unknown) => e);
  expect(err).toMatchObject({ name: 'MsgmockError', status: 0 });
  expect((err as Error).message).toBe(`msgmock: GET /__mock/requests: no answer from ${mock.url} (ECONNREFUSED); is msgmock running?`);
  expect(() => process.kill(mock.pid, 0)).toThrow(/ESRCH/);
});

test('the admin token: the client sends it; a client without it is refused', async () => {
  const mock = await startMsgmock({ adminToken: 's3cret' });
  try {
    expect(await mock.journal()).toEqual([]);
    const err = await connectMsgmock(mock.url, { adminToken: '' }).reset().then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ status: 401 });
    expect(await connectMsgmock(mock.url, { adminToken: 's3cret' }).clock()).toMatchObject({ mode: 'wall' });
  } finally {
    await mock.stop();
  }
});

test('MSGMOCK_* variables of the test process do not reach the binary', async () => {
  const saved = { ...process.env };
  Object.assign(process.env, { MSGMOCK_ADMIN_TOKEN: 'from-outside', MSGMOCK_SCENARIO: 'no-such-scenario', MSGMOCK_CLOCK: 'virtual' });
  let mock: StartedMsgmock | undefined;
  try {
    mock = await startMsgmock();
    expect(await mock.clock()).toMatchObject({ mode: 'wall' }); // no token asked, wall clock
  } finally {
    process.env = saved;
    await mock?.stop();
  }
});

test('a session\'s calls act on that session alone', async () => {
  const mock = await startMsgmock({ seed: 7 });
  try {
    const a = mock.session('suite-a');
    const b = mock.session('suite-b');
    expect(a.headers).toEqual({ 'X-Mock-Session': 'suite-a' });
    const added = await a.addScenario('busy', 'rules:\n  - when: {text: {contains: busy}}\n    respond: {status: 503}\n');
    expect(added).toMatchObject({ name: 'busy', session: 'suite-a', rules: 1 });
    await a.scenario('busy');
    expect((await send(mock, 'busy?', a.headers)).status).toBe(503);
    expect((await send(mock, 'busy?', b.headers)).status).toBe(200);
    expect((await send(mock, 'busy?')).status).toBe(200);
    expect((await a.journal()).map((r) => [r.status, r.scenario])).toEqual([[503, 'busy']]);
    expect((await b.journal()).map((r) => r.status)).toEqual([200]);
    expect(await mock.journal({ path: '/v1/messages', limit: 5 })).toHaveLength(1);
    await a.reset(); // removes what the session added
    await expect(a.removeScenario('busy')).rejects.toMatchObject({ status: 404 });
    expect(await a.journal()).toEqual([]);
    expect(await b.journal()).toHaveLength(1);
  } finally {
    await mock.stop();
  }
});

test('advance takes milliseconds or a duration', async () => {
  const mock = await startMsgmock({ clock: 'virtual', now: new Date('2026-03-15T14:22:11Z') });
  try {
    expect(await mock.clock()).toMatchObject({ mode: 'virtual', now: '2026-03-15T14:22:11Z' });
    expect((await mock.advance(1500)).now).toBe('2026-03-15T14:22:12.5Z');
    expect((await mock.advance('90s')).now).toBe('2026-03-15T14:23:42.5Z');
  } finally {
    await mock.stop();
  }
});

test('verify: what holds answers the matches; what does not throws with msgmock\'s report', async () => {
  const mock = await startMsgmock({ seed: 3 });
  try {
    const s = mock.session('verify');
    expect((await send(mock, 'Where is my invoice?', s.headers)).status).toBe(200);
    expect((await send(mock, 'hello', s.headers)).status).toBe(200);

    const held = await s.verify({ request: { api: 'conversations', method: 'POST', when: { text: { contains: 'invoice' } } }, count: { exactly: 1 } });
    expect(held).toMatchObject({ ok: true, matched: 1, ids: ['req_000001'] });
    expect(held.entries[0]).toMatchObject({ id: 'req_000001', status: 200, body: { text: 'Where is my invoice?' } });
    const inOrder = await s.verify({ sequence: [{ when: { text: { prefix: 'Where' } } }, { when: { text: 'hello' } }] });
    expect(inOrder.ids).toEqual(['req_000001', 'req_000002']);
    const keyAsSent = await s.verify({ request: { headers: { Authorization: auth.Authorization } }, count: { exactly: 2 } });
    expect(keyAsSent.matched).toBe(2);

    // Two expectations fail: both are reported, in msgmock's words.
    const err = await s
      .verify({ expect: [
        { request: { when: { sender_id: 'usr_1' } }, count: { at_least: 1 } },
        { sequence: [{ when: { text: 'hello' } }, { when: { text: { prefix: 'Where' } } }] },
      ] })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MsgmockVerifyError);
    const result = (err as MsgmockVerifyError).result;
    expect(result.failures?.map((f) => [f.expectation, f.step])).toEqual([[0, undefined], [1, 1]]);
    expect(result.closest?.[0]).toEqual({ id: 'req_000001', differences: [{ field: 'sender_id', expected: 'usr_1', actual: 'usr_82hd92' }] });
    expect((err as Error).message).toBe(result.report?.trimEnd());
    expect((err as Error).message).toContain('closest  req_000001: sender_id: expected "usr_1", got "usr_82hd92"');
    expect((err as Error).message).toContain('found    sequence[1] matches only requests before req_000002: req_000001, out of order');

    // A pattern msgmock refuses is a MsgmockError naming where.
    const bad = await s.verify({ request: { when: { text: { regex: '(' } } } }).then(() => undefined, (e: unknown) => e);
    expect(bad).not.toBeInstanceOf(MsgmockVerifyError);
    expect(bad).toMatchObject({ status: 400 });
    expect((bad as Error).message).toContain('\n  body:1:37: request.when.text.regex: missing closing )');

    // Another session received nothing.
    expect(await mock.session('other').verify({ request: {}, count: { never: true } })).toMatchObject({ ok: true, matched: 0, ids: [] });
  } finally {
    await mock.stop();
  }
});
