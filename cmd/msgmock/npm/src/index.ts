// msgmock for tests written in TypeScript or JavaScript: start the real
// binary on a free port (startMsgmock), or reach one started elsewhere
// (connectMsgmock: a globalSetup's, `msgmock exec`'s, a service
// container's), and steer it over its admin API (/__mock).
//
// Decisions:
// - The binary's environment is this process's without any MSGMOCK_*
//   variable: only the options configure it, so an outer `msgmock exec`'s
//   MSGMOCK_ADMIN_TOKEN or a shell's MSGMOCK_ADDR does not leak in.
// - msgmock's log (one line per request) is kept, not printed: the last
//   64 KiB are in an error when it fails to start. output: 'inherit'
//   shows it.
// - A started msgmock never outlives the test process: it is killed when
//   the process exits, on SIGINT, SIGTERM and SIGHUP too (the signal then
//   does what it would have done), and the handle does not keep Node's
//   event loop alive, so a forgotten stop() cannot hang a test runner.
// - Errors name the call and msgmock's answer: "msgmock: PUT
//   /__mock/scenario answered 404: no scenario \"nope\" …".

import { spawn, type ChildProcess } from 'node:child_process';
import { binaryPath } from './binary';

export { binaryPath, platforms, type Platform } from './binary';

/** Options of startMsgmock; each maps to a serve flag of the same name. */
export interface StartOptions {
  /** Fixtures directory (--fixtures); default: the built-in fixtures, or ./fixtures of cwd when there is one. */
  fixtures?: string;
  /** Seed for ids, fake text, chance and latency samples (--seed): the same seed, the same answers. */
  seed?: number | bigint | string;
  /** Freeze the clock at this instant (--now). */
  now?: string | Date;
  /** 'virtual': every wait runs on a clock only advance() moves (--clock). */
  clock?: 'virtual' | 'wall';
  /** Scenario active at start (--scenario). */
  scenario?: string;
  /** Require `Authorization: Bearer <it>` on /__mock/* (--admin-token); the client sends it. */
  adminToken?: string;
  /** More command-line flags, as `msgmock serve` takes them. */
  args?: string[];
  /** The binary to run; default $MSGMOCK_BINARY, else the one of this platform's package. */
  binary?: string;
  /** Working directory of the binary (it looks for ./fixtures there). */
  cwd?: string;
  /** How long to wait for msgmock to answer, in milliseconds; default 10000. */
  startTimeout?: number;
  /** 'inherit': msgmock's log goes to this process's stderr; default: kept for error messages. */
  output?: 'capture' | 'inherit';
}

/** Options of connectMsgmock. */
export interface ConnectOptions {
  /** Default: $MSGMOCK_ADMIN_TOKEN. */
  adminToken?: string;
}

/** A journal entry: one request msgmock received, and its answer. */
export interface JournalEntry {
  id: string;
  at: string;
  method: string;
  path: string;
  query?: string;
  headers: Record<string, string>;
  /** The request body as JSON when it is JSON, else as text. */
  body: unknown;
  body_truncated?: boolean;
  headers_truncated?: boolean;
  status: number;
  scenario: string;
  rule: string;
  duration_ms: number;
  /** No rule of its scenario answered it. */
  unmatched?: boolean;
  /** Then, the closest rules with each field that differed. */
  near_misses?: { scenario: string; rule: string; differences: Difference[] }[];
  response: { headers: Record<string, string>; body: unknown; body_truncated?: boolean; headers_truncated?: boolean };
}

/** Which journal entries to read: GET /__mock/requests's query. */
export interface JournalFilter {
  /** Only requests to this path. */
  path?: string;
  /** Only the last N. */
  limit?: number;
  /** Only the entries after this id (req_…). */
  after?: string;
}

/** The clock, as GET and POST /__mock/clock answer. */
export interface Clock {
  now: string;
  frozen: boolean;
  mode: 'wall' | 'virtual';
}

/** A scenario added over the admin API. */
export interface AddedScenario {
  name: string;
  session?: string;
  rules: number;
  body?: string;
}

/**
 * What a field must be, as in a rule's `when`: a value it equals, or an
 * operator.
 */
export type FieldMatch =
  | string
  | number
  | boolean
  | {
      equals?: string | number | boolean;
      contains?: string;
      prefix?: string;
      suffix?: string;
      regex?: string;
      ignore_case?: boolean;
      absent?: boolean;
    };

/** The requests an expectation is about: a rule's `when` plus where they were answered. */
export interface RequestPattern {
  api?: 'conversations' | 'workspace';
  method?: FieldMatch;
  path?: FieldMatch;
  /** A key may be given as sent: msgmock compares it masked, as its journal keeps it. */
  headers?: Record<string, FieldMatch>;
  status?: number;
  /** Body fields, with every key and operator a rule's `when` takes. */
  when?: Record<string, FieldMatch | Record<string, FieldMatch>>;
  /** Default: the session of the call. */
  session?: string;
  scenario?: FieldMatch;
  /** One of the rules that fired; `{absent: true}`: none. */
  rule?: FieldMatch;
}

/** How many matching requests there must be (default `{at_least: 1}`); `never` is `{exactly: 0}`. */
export interface Count {
  exactly?: number;
  at_least?: number;
  at_most?: number;
  never?: true;
}

/** One expectation: a count of matching requests, or patterns that must appear in order. */
export type SingleExpectation = { request: RequestPattern; count?: Count } | { sequence: RequestPattern[] };

/** What POST /__mock/verify takes: one expectation, or several checked at once. */
export type Expectation = SingleExpectation | { expect: SingleExpectation[] };

/** A field of a near miss that differed. */
export interface Difference {
  field: string;
  expected: unknown;
  actual: unknown;
}

/** A request an expectation came close to, with each field that differed. */
export interface Closest {
  id: string;
  differences: Difference[];
}

/** An expectation that does not hold. */
export interface VerifyFailure {
  /** Its index in `expect` (0 for a single one). */
  expectation: number;
  session: string;
  request?: RequestPattern;
  sequence?: RequestPattern[];
  /** The index of the sequence's pattern that found nothing. */
  step?: number;
  expected: string;
  found: string;
  matched: number;
  ids: string[];
  closest: Closest[];
}

/** POST /__mock/verify's answer. */
export interface VerifyResult {
  ok: boolean;
  /** How many requests matched (for a sequence, the steps matched in order). */
  matched: number;
  /** The matching requests' ids. */
  ids: string[];
  /** The first 100 of them in full. */
  entries: JournalEntry[];
  entries_truncated?: boolean;
  /** On failure: every expectation that does not hold. */
  failures?: VerifyFailure[];
  /** On failure: the first failure's closest requests. */
  closest?: Closest[];
  /** On failure: the failures as msgmock writes them for a person. */
  report?: string;
}

/** An admin call msgmock refused, or could not be made. */
export class MsgmockError extends Error {
  /** The HTTP status; 0 when there was no answer. */
  readonly status: number;
  /** The answer's body, parsed when it is JSON. */
  readonly body: unknown;
  constructor(message: string, status: number, body: unknown) {
    super(message);
    this.name = 'MsgmockError';
    this.status = status;
    this.body = body;
  }
}

/** A verification that did not hold (422): the message says what was expected and what was found. */
export class MsgmockVerifyError extends MsgmockError {
  readonly result: VerifyResult;
  constructor(message: string, result: VerifyResult) {
    super(message, 422, result);
    this.name = 'MsgmockVerifyError';
    this.result = result;
  }
}

/** The admin calls that act on one session (X-Mock-Session). */
export interface MsgmockSession {
  /** The session's id. */
  readonly id: string;
  /** msgmock's base URL. */
  readonly url: string;
  /** The headers that put a request in this session: send them with your app's requests. */
  readonly headers: { 'X-Mock-Session': string };
  /** The session's journal, oldest first. */
  journal(filter?: JournalFilter): Promise<JournalEntry[]>;
  /** Back to the fixtures' state: conversations, journal, events, counters, added scenarios. */
  reset(): Promise<void>;
  /** Makes a scenario active for this session. */
  scenario(name: string): Promise<void>;
  /** Adds a scenario (YAML text, or an object sent as JSON) for this session only. */
  addScenario(name: string, scenario: string | object): Promise<AddedScenario>;
  /** Removes a scenario added with addScenario. */
  removeScenario(name: string): Promise<void>;
  /** Checks what was sent (POST /__mock/verify); throws MsgmockVerifyError when it does not hold. */
  verify(expectation: Expectation): Promise<VerifyResult>;
}

/** A msgmock: the admin calls for the default session (server-wide where the API is), the clock, and sessions. */
export interface Msgmock extends Omit<MsgmockSession, 'id' | 'headers'> {
  /** A client whose calls act on session id alone. */
  session(id: string): MsgmockSession;
  /** Moves the virtual clock: milliseconds, or a duration such as '90s'; what falls due is delivered first. */
  advance(by: number | string): Promise<Clock>;
  /** Reads the clock. */
  clock(): Promise<Clock>;
}

/** A msgmock this process started. */
export interface StartedMsgmock extends Msgmock {
  /** The binary's process id. */
  readonly pid: number;
  /** Stops msgmock (SIGTERM, then SIGKILL after 10 s) and resolves when it has exited. */
  stop(): Promise<void>;
}

const startLine = /listening on (http:\/\/\S+) \(/;
const outputKept = 64 << 10;

/**
 * Starts msgmock on a free port of 127.0.0.1 and resolves once it answers
 * /__mock/health.
 */
export async function startMsgmock(options: StartOptions = {}): Promise<StartedMsgmock> {
  const bin = options.binary ?? binaryPath();
  const args = ['serve', '--addr', '127.0.0.1:0', ...serveFlags(options), ...(options.args ?? [])];
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('MSGMOCK_')) env[k] = v;
  }
  const child = spawn(bin, args, {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', options.output === 'inherit' ? 'inherit' : 'pipe'],
    windowsHide: true,
  });
  let output = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    output = (output + chunk).slice(-outputKept);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = trackUntilExit(child);
  const fail = (what: string): MsgmockError => {
    child.kill('SIGKILL');
    const log = output.trim() ? `\n${output.trim()}` : '';
    return new MsgmockError(`msgmock: ${what} (${bin} ${args.join(' ')})${log}`, 0, output);
  };
  const timeout = options.startTimeout ?? 10_000;
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(fail(`no start line within ${timeout} ms`)), timeout);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk;
      const m = startLine.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(fail(`cannot run the binary: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(fail(`exited (${signal ?? `status ${code}`}) before it listened`));
    });
  });
  // From here the handle keeps nothing alive: the exit hooks end msgmock.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) {
    stream?.resume();
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }
  const admin = new AdminClient(url, options.adminToken);
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      await admin.call('GET', '/__mock/health');
      break;
    } catch (err) {
      if (Date.now() > deadline) throw fail(`no answer from ${url}/__mock/health: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  let stopping: Promise<void> | undefined;
  return {
    ...msgmockOn(admin),
    pid: child.pid!,
    stop() {
      stopping ??= (async () => {
        if (running.has(child)) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(killer);
        }
      })();
      return stopping;
    },
  };
}

/**
 * A client for a msgmock that runs already: url defaults to $MSGMOCK_URL
 * (set by `msgmock exec` and by the recipes' globalSetup).
 */
export function connectMsgmock(url: string | undefined = process.env.MSGMOCK_URL, options: ConnectOptions = {}): Msgmock {
  if (!url) {
    throw new Error('msgmock: no URL to connect to: pass one, or set MSGMOCK_URL (msgmock exec does)');
  }
  return msgmockOn(new AdminClient(url.replace(/\/+$/, ''), options.adminToken ?? process.env.MSGMOCK_ADMIN_TOKEN));
}

function serveFlags(o: StartOptions): string[] {
  const flags: string[] = [];
  if (o.fixtures !== undefined) flags.push('--fixtures', o.fixtures);
  if (o.seed !== undefined) flags.push('--seed', String(o.seed));
  if (o.now !== undefined) flags.push('--now', o.now instanceof Date ? o.now.toISOString() : o.now);
  if (o.clock !== undefined) flags.push('--clock', o.clock);
  if (o.scenario !== undefined) flags.push('--scenario', o.scenario);
  if (o.adminToken !== undefined) flags.push('--admin-token', o.adminToken);
  return flags;
}

function msgmockOn(admin: AdminClient): Msgmock {
  return {
    ...sessionCalls(admin, undefined),
    session(id: string): MsgmockSession {
      if (typeof id !== 'string' || id === '') throw new TypeError('msgmock: a session id is a non-empty string');
      return { id, headers: { 'X-Mock-Session': id }, ...sessionCalls(admin, id) };
    },
    async advance(by: number | string): Promise<Clock> {
      let advance: string;
      if (typeof by === 'number') {
        if (!Number.isFinite(by)) throw new TypeError(`msgmock: advance(${by}): milliseconds are a finite number`);
        advance = `${by}ms`;
      } else {
        advance = by;
      }
      return (await admin.call('POST', '/__mock/clock', { json: { advance } })) as Clock;
    },
    async clock(): Promise<Clock> {
      return (await admin.call('GET', '/__mock/clock')) as Clock;
    },
  };
}

function sessionCalls(admin: AdminClient, session: string | undefined): Omit<MsgmockSession, 'id' | 'headers'> {
  return {
    url: admin.url,
    async journal(filter: JournalFilter = {}): Promise<JournalEntry[]> {
      const q = new URLSearchParams();
      if (filter.path !== undefined) q.set('path', filter.path);
      if (filter.limit !== undefined) q.set('limit', String(filter.limit));
      if (filter.after !== undefined) q.set('after', filter.after);
      const query = q.toString() ? `?${q}` : '';
      const page = (await admin.call('GET', `/__mock/requests${query}`, { session })) as { requests: JournalEntry[] };
      return page.requests;
    },
    async reset(): Promise<void> {
      await admin.call('POST', '/__mock/reset', { session });
    },
    async scenario(name: string): Promise<void> {
      await admin.call('PUT', '/__mock/scenario', { session, json: { name } });
    },
    async addScenario(name: string, scenario: string | object): Promise<AddedScenario> {
      const body = typeof scenario === 'string' ? { yaml: scenario } : { json: scenario };
      return (await admin.call('PUT', `/__mock/scenarios/${encodeURIComponent(name)}`, { session, ...body })) as AddedScenario;
    },
    async removeScenario(name: string): Promise<void> {
      await admin.call('DELETE', `/__mock/scenarios/${encodeURIComponent(name)}`, { session });
    },
    async verify(expectation: Expectation): Promise<VerifyResult> {
      try {
        return (await admin.call('POST', '/__mock/verify', { session, json: expectation })) as VerifyResult;
      } catch (err) {
        if (err instanceof MsgmockError && err.status === 422 && isVerifyResult(err.body)) {
          throw new MsgmockVerifyError(describeFailure(err.body), err.body);
        }
        throw err;
      }
    },
  };
}

function isVerifyResult(body: unknown): body is VerifyResult {
  return typeof body === 'object' && body !== null && (body as { ok?: unknown }).ok === false;
}

/** A failed verification for a person: msgmock's report, the text every client prints. */
function describeFailure(r: VerifyResult): string {
  if (r.report) return r.report.replace(/\n$/, '');
  const lines = [`msgmock: verification failed: ${r.matched} matching request(s)`];
  for (const f of r.failures ?? []) lines.push(`  expected ${f.expected}`, `  found    ${f.found}`);
  return lines.join('\n');
}

interface CallOptions {
  session?: string;
  json?: unknown;
  yaml?: string;
}

/** The admin API's transport: one place for the token, the session header and errors. */
class AdminClient {
  constructor(
    readonly url: string,
    private readonly token: string | undefined,
  ) {}

  async call(method: string, path: string, options: CallOptions = {}): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (options.session !== undefined) headers['X-Mock-Session'] = options.session;
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.yaml !== undefined) {
      headers['Content-Type'] = 'application/yaml';
      body = options.yaml;
    }
    const what = `${method} ${path.split('?')[0]}${options.session !== undefined ? ` (session ${options.session})` : ''}`;
    let res: Response;
    try {
      res = await fetch(this.url + path, { method, headers, body });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new MsgmockError(`msgmock: ${what}: no answer from ${this.url} (${reason}); is msgmock running?`, 0, undefined);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text
    }
    if (!res.ok) {
      throw new MsgmockError(`msgmock: ${what} answered ${res.status}: ${errorText(parsed)}`, res.status, parsed);
    }
    return parsed;
  }
}

/** The admin API's error text: {"error": "…"} plus, for a scenario's problems, "errors": […]. */
function errorText(body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const { error, errors } = body as { error?: unknown; errors?: unknown };
    if (typeof error === 'string') {
      return Array.isArray(errors) && errors.length ? `${error}\n  ${errors.join('\n  ')}` : error;
    }
    return JSON.stringify(body);
  }
  return String(body ?? '(empty body)').slice(0, 1024);
}

// The msgmock processes this one started and that still run; the exit
// hooks kill them.
const live = new Set<ChildProcess>();
let hooked = false;

function trackUntilExit(child: ChildProcess): Set<ChildProcess> {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!hooked) {
    hooked = true;
    process.once('exit', killAll);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        killAll();
        // Had no one else listened, the signal would have ended this
        // process: let it.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    }
  }
  return live;
}

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}
