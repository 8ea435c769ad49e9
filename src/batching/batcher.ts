// The micro-batcher of one pipeline. Requests that can share a Wallaroo call (same query string, same formats to
// and from Wallaroo, same input columns) wait for each other up to maxDelayMs, or until the batch holds maxRows
// rows or maxBytes bytes; then the batch asks for one concurrency slot, and keeps taking members until the slot
// comes (while every slot is busy, newcomers ride in the next call rather than queue one by one). One call
// carries all their rows and each member gets exactly its own rows back.
// A request that arrives while nothing is pending and no call to the pipeline is in flight is not held at all:
// it goes the ordinary way (batching cannot help it, so it costs nothing).
//
// Every member keeps its own bounds: one that leaves (or whose deadline passes) before the send leaves the batch;
// after the send its rows' answers are dropped, and when every member has left the call is aborted (as a timeout
// when the last one's deadline passed). As alone, a member's deadline is met by Wallaroo's answer headers; the
// body's bound is the sender's. flush() (draining) sends every pending batch at once. Failures are
// per member: a refusal that may be one member's fault (400, 413, 422, a 500 blaming the input) and an answer
// whose row count is not the input's are followed by one call per member, so only the bad request hears about
// its rows; any other failure reaches each member as its own coded error (or Wallaroo's answer, as it would alone).
// Over 300 lines on purpose: submit, claim, seal, leave, send and the per-member fallback are one state machine
// over the pending batch's private state; a split would have to expose that state to another module.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Table } from 'apache-arrow';
import type { BatchingConfig, ConversionLimits } from '../config/types.ts';
import { GatewayError } from '../errors.ts';
import { type Bounds, callerGone, deadlinePassed, endedBecause, remainingMs, within } from '../http/deadline.ts';
import { verdictOnAnswer } from '../limits/verdict.ts';
import type { RequestTrace } from '../observability/tracing.ts';
import { joinTables, readRecords, splitTable } from './arrow-records.ts';
import { type JsonRecords, joinRecords, scanRecords, splitRecords } from './json-records.ts';

/** What Wallaroo reads and writes. */
export type WireFormat = 'json' | 'arrow-file';

/** A whole answer from Wallaroo. */
export interface WholeAnswer {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The request's context as the batcher needs it: its bounds and its trace. */
export interface MemberContext extends Bounds {
  readonly trace: Pick<RequestTrace, 'startPhase'>;
  /** Wallaroo's answer headers arrived: the deadline is met (the answer body has a bound of its own). */
  answerStarted(): void;
}

/** One request offered to the batcher, its body already in the format Wallaroo receives. */
export interface BatchRequest {
  body: Buffer;
  format: WireFormat;
  answerFormat: WireFormat;
  query: string;
  requestId: string;
}

/** One call to Wallaroo for a batch (or for one member alone, after a batch failed). */
export interface BatchCall<C extends MemberContext> {
  /** Sent as the call's request id: the batch's id, or the member's own when it goes alone. */
  requestId: string;
  body: Buffer;
  format: WireFormat;
  answerFormat: WireFormat;
  query: string;
  /** Ends when every member has left, or (for members whose deadline an earlier call met) at the latest member's deadline. */
  bounds: Bounds;
  /**
   * Wallaroo's answer headers arrived (a final status): each member's deadline is met, as a lone request's is;
   * reading the body is bounded by the sender, as a lone answer's is.
   */
  answerStarted(): void;
  /** The members still waiting when the call was made, in row order. */
  members: readonly C[];
  rows: number;
}

/** A member's answer: its rows only, as Wallaroo wrote them, and the batch it went with. */
export interface MemberAnswer {
  answer: WholeAnswer;
  batchId: string;
  /** Requests in the call that answered this one (1 when it was re-sent alone). */
  batchSize: number;
}

/** A concurrency slot, held for one call and released by the send. */
export interface BatchSlot {
  release(): void;
}

export interface BatcherOptions<C extends MemberContext, S extends BatchSlot> {
  pipeline: string;
  /** The pipeline's timeout, named when a call's deadline passes. */
  timeoutMs: number;
  limits: BatchingConfig;
  conversion: ConversionLimits;
  /** True when no call to the pipeline is in flight (so a lone request gains nothing by waiting). */
  idle(): boolean;
  /** A concurrency slot for one call, within `bounds` (one batch, or one member re-sent alone). */
  slot(bounds: Bounds): Promise<S>;
  /** Makes one call to Wallaroo in `slot` (token, discovery, retries, the breaker's verdict), reads the answer whole and releases the slot. */
  send(call: BatchCall<C>, slot: S): Promise<WholeAnswer>;
  observeRows(rows: number): void;
  observeWaitSeconds(seconds: number): void;
  /** Wallaroo answered a batch with another row count than it was sent (called once per batcher). */
  onRowMismatch(rows: number): void;
}

interface Member<C extends MemberContext> {
  ctx: C;
  request: BatchRequest;
  rows: number;
  json: JsonRecords | null;
  table: Table | null;
  joinedAt: number;
  waitSpan: { end(error?: unknown): void };
  resolve(answer: MemberAnswer): void;
  reject(error: unknown): void;
  /** The member's bounds ended (it left, or its deadline passed). */
  gone: boolean;
  /** Called once the member's bounds end after its batch was sent. */
  onGone: (() => void) | null;
}

interface Pending<C extends MemberContext> {
  key: string;
  members: Set<Member<C>>;
  rows: number;
  bytes: number;
  timer: NodeJS.Timeout | null;
  /** Aborted when every member has left before the batch was sent (ends the wait for a slot). */
  controller: AbortController;
  /** A slot has been asked for (the delay passed, or the batch is full); the batch is sent when it comes. */
  claiming: boolean;
}

/** Refusals that may be one member's fault: the members are re-sent one by one. */
const PER_MEMBER_REFUSALS = new Set([400, 413, 422]);

/** Why a member's bounds ended: the reason its signal carries (deadline, caller gone, shutdown), else the caller left. */
function whyGone(bounds: Bounds): GatewayError {
  const reason: unknown = bounds.signal.reason;
  return reason instanceof GatewayError ? reason : callerGone();
}

/** A copy of a failure for one member: each caller gets an error object of its own. */
function ownError(error: unknown): unknown {
  if (!(error instanceof GatewayError)) return error;
  return new GatewayError(error.code, error.message, { cause: error.cause, headers: { ...error.headers } });
}

export class Batcher<C extends MemberContext, S extends BatchSlot> {
  /** The batch each key's requests join: open until it is full or its slot comes. */
  private readonly pending = new Map<string, Pending<C>>();
  /** Batches that stopped taking members and wait for a slot. */
  private readonly full = new Set<Pending<C>>();
  private mismatchReported = false;
  private lastRows = 0;
  /** Set by flush(): the gateway is shutting down, so no batch waits for maxDelayMs any more. */
  private flushed = false;

  constructor(private readonly options: BatcherOptions<C, S>) {}

  /** Requests waiting for their batch to be sent (GET /pipelines, the status page). */
  get waiting(): number {
    let count = 0;
    for (const batch of this.pending.values()) count += batch.members.size;
    for (const batch of this.full) count += batch.members.size;
    return count;
  }

  /** For the status page: requests waiting, and the rows of the last batch sent. */
  figures(): { waiting: number; 'last batch rows': number } {
    return { waiting: this.waiting, 'last batch rows': this.lastRows };
  }

  /**
   * Sends every pending batch now (each still takes its concurrency slot), and from now on sends each new batch
   * as soon as it opens: the gateway is draining, and a request held for maxDelayMs could outlast the shutdown grace.
   */
  flush(): void {
    this.flushed = true;
    for (const batch of this.pending.values()) this.claim(batch);
  }

  /**
   * The member's answer through a batch, or null when the request should go the ordinary way: alone at once
   * (nothing pending, no call in flight), or not batchable (a body the batcher cannot read, too big for a batch).
   */
  submit(ctx: C, request: BatchRequest): Promise<MemberAnswer> | null {
    const { limits } = this.options;
    if (this.pending.size === 0 && this.full.size === 0 && this.options.idle()) return null;
    if (ctx.signal.aborted) return Promise.reject(endedBecause(ctx));
    if (request.body.length > limits.maxBytes) return null;
    let columns: string | null;
    let rows: number;
    let json: JsonRecords | null = null;
    let table: Table | null = null;
    if (request.format === 'json') {
      json = scanRecords(request.body, true);
      if (!json) return null;
      rows = json.starts.length;
      columns = json.columns;
    } else {
      const read = readRecords(request.body, this.options.conversion);
      if (!read) return null;
      table = read.table;
      rows = table.numRows;
      columns = read.columns;
    }
    if (columns === null || rows === 0 || rows > limits.maxRows) return null;
    const key = JSON.stringify([request.format, request.answerFormat, request.query, columns]);

    let batch = this.pending.get(key);
    if (batch && (batch.rows + rows > limits.maxRows || batch.bytes + request.body.length > limits.maxBytes)) {
      this.close(batch);
      batch = undefined;
    }
    if (!batch) {
      const opened: Pending<C> = { key, members: new Set(), rows: 0, bytes: 0, timer: null, controller: new AbortController(), claiming: false };
      opened.timer = setTimeout(() => this.claim(opened), this.flushed ? 0 : limits.maxDelayMs);
      this.pending.set(key, opened);
      batch = opened;
    }
    const joined = batch;
    const answer = new Promise<MemberAnswer>((resolve, reject) => {
      const member: Member<C> = {
        ctx, request, rows, json, table, joinedAt: performance.now(), waitSpan: ctx.trace.startPhase('batch_wait'), resolve, reject, gone: false, onGone: null,
      };
      joined.members.add(member);
      joined.rows += rows;
      joined.bytes += request.body.length;
      ctx.signal.addEventListener('abort', () => this.leave(joined, member), { once: true });
    });
    if (joined.rows >= limits.maxRows || joined.bytes >= limits.maxBytes) this.close(joined);
    return within(answer, ctx);
  }

  /** The batch takes no more members (it is full) and is sent as soon as it has a slot. */
  private close(batch: Pending<C>): void {
    if (this.pending.get(batch.key) === batch) this.pending.delete(batch.key);
    this.full.add(batch);
    this.claim(batch);
  }

  /**
   * Asks for the batch's concurrency slot. Until it comes the batch keeps taking members (unless full): while
   * every slot is busy, the requests that arrive ride in the next call instead of queueing one by one.
   */
  private claim(batch: Pending<C>): void {
    if (batch.timer) clearTimeout(batch.timer);
    batch.timer = null;
    if (batch.claiming) return;
    batch.claiming = true;
    const deadline = Math.max(...[...batch.members].map((member) => member.ctx.deadline));
    this.options.slot({ signal: batch.controller.signal, deadline }).then(
      (slot) => {
        const members = this.seal(batch);
        if (members.length === 0) slot.release();
        else this.sendBatch(members, slot).catch((error: unknown) => {
          for (const member of members) member.reject(error); // a bug; never an unhandled rejection
        });
      },
      (error: unknown) => {
        for (const member of this.seal(batch)) member.reject(ownError(error));
      },
    );
  }

  /** The batch's members, in the order they came; the batch is forgotten. */
  private seal(batch: Pending<C>): Member<C>[] {
    if (this.pending.get(batch.key) === batch) this.pending.delete(batch.key);
    this.full.delete(batch);
    const members = [...batch.members];
    batch.members.clear();
    return members;
  }

  /** A member's bounds ended: out of a batch not yet sent at once; after the send, its answer is dropped. */
  private leave(batch: Pending<C>, member: Member<C>): void {
    member.gone = true;
    if (batch.members.delete(member)) {
      member.waitSpan.end(endedBecause(member.ctx));
      batch.rows -= member.rows;
      batch.bytes -= member.request.body.length;
      if (batch.members.size === 0) {
        if (batch.timer) clearTimeout(batch.timer);
        this.seal(batch);
        batch.controller.abort(callerGone()); // nobody left to wait for a slot
      }
      return;
    }
    member.onGone?.();
  }

  private async sendBatch(members: Member<C>[], slot: S): Promise<void> {
    const now = performance.now();
    const first = members[0]!;
    const rows = members.reduce((sum, member) => sum + member.rows, 0);
    let body: Buffer;
    try {
      body = first.request.format === 'json'
        ? joinRecords(members.map((member) => member.request.body), members.map((member) => member.json!))
        : joinTables(members.map((member) => member.table!));
    } catch {
      // Tables that looked alike but do not concatenate: nothing is lost by sending them one by one.
      slot.release();
      await this.sendEachAlone(members, randomUUID());
      return;
    }
    for (const member of members) {
      member.waitSpan.end();
      this.options.observeWaitSeconds((now - member.joinedAt) / 1000);
    }
    this.options.observeRows(rows);
    this.lastRows = rows;
    const batchId = randomUUID();
    let answer: WholeAnswer;
    try {
      answer = await this.call(members, { requestId: batchId, body, rows }, slot);
    } catch (error) {
      for (const member of members) member.reject(ownError(error));
      return;
    }
    const { statusCode } = answer;
    if (statusCode >= 200 && statusCode < 300) {
      const counts = members.map((member) => member.rows);
      const slices = first.request.answerFormat === 'json' ? splitRecords(answer.body, counts) : splitTable(answer.body, counts, this.options.conversion);
      if (!slices) {
        if (!this.mismatchReported) {
          this.mismatchReported = true;
          this.options.onRowMismatch(rows);
        }
        await this.sendEachAlone(members, batchId);
        return;
      }
      members.forEach((member, index) => {
        const slice = slices[index]!;
        member.resolve({ answer: { statusCode, headers: { ...answer.headers, 'content-length': String(slice.length) }, body: slice }, batchId, batchSize: members.length });
      });
      return;
    }
    if (members.length > 1 && this.mayBeOneMembersFault(answer)) {
      await this.sendEachAlone(members, batchId);
      return;
    }
    // Anything else is no member's fault: each gets Wallaroo's answer, as it would have alone.
    for (const member of members) member.resolve({ answer, batchId, batchSize: members.length });
  }

  private mayBeOneMembersFault(answer: WholeAnswer): boolean {
    if (PER_MEMBER_REFUSALS.has(answer.statusCode)) return true;
    return answer.statusCode === 500 && verdictOnAnswer(500, answer.body.toString('utf8')) === 'neutral';
  }

  /** After a batch that cannot be split or was refused: one call per member still waiting, each with its own answer. */
  private async sendEachAlone(members: Member<C>[], batchId: string): Promise<void> {
    await Promise.all(
      members
        .filter((member) => !member.gone)
        .map(async (member) => {
          try {
            // The member's own deadline may have been met by the batch's answer: the slot wait keeps its bound.
            const slot = await this.options.slot({ signal: AbortSignal.any([member.ctx.signal, AbortSignal.timeout(Math.ceil(remainingMs(member.ctx)))]), deadline: member.ctx.deadline });
            const answer = await this.call([member], { requestId: member.request.requestId, body: member.request.body, rows: member.rows }, slot);
            member.resolve({ answer, batchId, batchSize: 1 });
          } catch (error) {
            member.reject(error);
          }
        }),
    );
  }

  /**
   * One call for these members; its bounds end when all of them have left, for the reason the last one left: a
   * passed deadline ends the call as a timeout (Wallaroo's failure, held against it by the breaker, as a lone
   * request's would be); a caller that disconnected (or a shutdown) ends it as nobody's.
   */
  private call(members: Member<C>[], what: { requestId: string; body: Buffer; rows: number }, slot: S): Promise<WholeAnswer> {
    const controller = new AbortController();
    const deadline = Math.max(...members.map((member) => member.ctx.deadline));
    // The members' own deadlines end the call first (see onGone). This one bounds a member whose deadline an
    // earlier call's answer met (re-sent alone after a refused or unsplittable batch).
    let timer: NodeJS.Timeout | null = setTimeout(() => controller.abort(deadlinePassed(this.options.timeoutMs)), Math.max(0, deadline - performance.now()));
    const disarm = () => {
      if (timer) clearTimeout(timer);
      timer = null;
    };
    let waiting = members.length;
    for (const member of members) {
      member.onGone = () => {
        if (--waiting === 0) controller.abort(whyGone(member.ctx));
      };
      if (member.gone) member.onGone();
    }
    const { request } = members[0]!;
    return this.options.send({
      requestId: what.requestId,
      body: what.body,
      format: request.format,
      answerFormat: request.answerFormat,
      query: request.query,
      bounds: { signal: controller.signal, deadline },
      answerStarted: () => {
        disarm();
        for (const member of members) if (!member.gone) member.ctx.answerStarted();
      },
      members: members.map((member) => member.ctx),
      rows: what.rows,
    }, slot).finally(disarm);
  }
}
