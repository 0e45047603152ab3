/**
 * The pacer of one Slack channel (`channel/<channelId>`): every chat.postMessage into the channel
 * waits for a turn from here, so that the channel stays within Slack's pace (about one message per
 * second, short bursts allowed) however many workers run. Alert workflows ask for a turn
 * (`channelTurnRequestSignal`, by signal-with-start through an activity); this workflow grants
 * turns back by signal as its token bucket allows: thread calls first, then new alert messages by
 * severity, then arrival. Each turn is a time slot (`notBefore`): the Slack activity waits for its
 * slot, so turns granted a little ahead reach Slack at the pace however late their grant arrived.
 *
 * While more alerts wait than the channel can take (a storm), it keeps one digest message up to
 * date in place: counts by severity, the newest titles, what is still waiting, and the alerts that
 * ended before their turn. When nothing has waited for a while, the digest says the storm is over
 * and is not changed again. History stays bounded: continue-as-new carries the queue.
 * docs/storm.md says why it is built this way.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { patchedSince } from './patches';
import type { ChannelActivities } from '../activities';
import type { Severity } from '../domain/alert';
import { DEFAULT_CHANNEL_PACE, type ChannelPace } from '../slack/channel-pace';
import type { SlackMessageRef } from '../slack/client';
import type { ChannelDigestView, DigestAlert, WithdrawnDigestAlert } from '../slack/digest-message';
import {
  CHANNEL_METRICS_ACTIVITY_OPTIONS,
  CHANNEL_TURN_LOCAL_ACTIVITY_OPTIONS,
  DIGEST_ACTIVITY_OPTIONS,
} from './activity-options';
import {
  channelQueuePositionQuery,
  channelQueuePositionSignal,
  channelTurnDoneSignal,
  channelTurnRequestSignal,
  channelTurnSignal,
  channelTurnWithdrawalSignal,
  type ChannelTurnRequest,
} from './definitions';

const digest = proxyActivities<ChannelActivities>(DIGEST_ACTIVITY_OPTIONS);
const metrics = proxyActivities<ChannelActivities>(CHANNEL_METRICS_ACTIVITY_OPTIONS);
const sharedBucket = proxyLocalActivities<ChannelActivities>(CHANNEL_TURN_LOCAL_ACTIVITY_OPTIONS);

export { DEFAULT_CHANNEL_PACE, type ChannelPace } from '../slack/channel-pace';

/** Well under Temporal's 10,240-event warning; a storm of 500 alerts runs through a few of these. */
export const DEFAULT_CHANNEL_MAX_HISTORY_EVENTS = 3_000;
/** Request ids remembered after their grant, so that a request signalled twice is not queued again. */
const REMEMBERED_REQUESTS = 1_000;
/** Newest titles kept for the digest. */
const NEWEST_TITLES = 10;
/** Withdrawn alerts kept for the digest (it lists only so many anyway). */
const REMEMBERED_WITHDRAWN = 200;

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, error: 1, warning: 2, info: 3 };

interface QueuedTurn extends ChannelTurnRequest {
  /** Arrival order within the channel. */
  seq: number;
}

interface Storm {
  startedAt: string;
  counts: Record<Severity, number>;
  posted: number;
  newest: DigestAlert[];
  withdrawn: WithdrawnDigestAlert[];
  digest?: SlackMessageRef;
  /** When the digest was last posted or rewritten (workflow time, ms). */
  digestWrittenAt?: number;
  /** Something changed since the digest was last written. */
  changed: boolean;
  /** The last new alert message asked for (workflow time, ms). */
  lastArrivalAt: number;
}

/** Everything the pacer knows, carried across continue-as-new. */
export interface ChannelState {
  queue: QueuedTurn[];
  seq: number;
  /**
   * Token bucket: turns available at `tokensAt` (workflow time, ms). With slots, `tokensAt` is the
   * last slot handed out, which may lie ahead of now.
   */
  tokens: number;
  tokensAt: number;
  granted: string[];
  /** Turns granted whose call is not reported over yet, with when they were granted. */
  inFlight: Array<{ requestId: string; grantedAt: number }>;
  storm?: Storm;
  lastBusyAt: number;
  /** The workspace installation of the channel's team (OAuth mode): the digest is written by its bot. */
  installationId?: string;
  /** Shared bucket: a 429 to pass on with the next slot asked (epoch ms until Retry-After is over). */
  pauseUntil?: number;
  /** Shared bucket: when the slot refused last would come (epoch ms). */
  nextSlotAt?: number;
  /** Shared bucket: the latest slot handed out (epoch ms). */
  lastSlotAt?: number;
  /** Shared bucket: new posts queue here rather than take their slot themselves. */
  holdsPosts?: boolean;
}

export interface ChannelWorkflowInput {
  channelId: string;
  pace?: Partial<ChannelPace>;
  maxHistoryEvents?: number;
  /** Present after continue-as-new. */
  carried?: ChannelState;
}

/**
 * Runs started before slots replay as they were made: a grant meant "post now", and the pacer
 * waited for each post's done signal (at most `maxPostsInFlight`). With slots a grant carries its
 * slot, no done signal is needed, and a waiting post is told its place in the queue by signal
 * (it was a query: a busy pacer's query buffer overflowed in storms).
 */
const SLOTS_PATCH = 'channel-slots';
/**
 * The bucket lives in PostgreSQL, shared with the alerts (`take_channel_slot`): thread calls, and
 * posts while this pacer holds none, take their slot there without a round trip through here; this
 * pacer orders the posts it holds and asks there for each slot. Runs before it keep their own bucket.
 */
const SHARED_BUCKET_PATCH = 'channel-slots-in-postgres';
/** Queue places told per workflow task at most: the Web UI's "N ahead" must not slow the grants. */
const POSITIONS_PER_TASK = 50;

export async function channelWorkflow(input: ChannelWorkflowInput): Promise<void> {
  const { channelId } = input;
  const pace: ChannelPace = { ...DEFAULT_CHANNEL_PACE, ...input.pace };
  const maxHistoryEvents = input.maxHistoryEvents ?? DEFAULT_CHANNEL_MAX_HISTORY_EVENTS;
  // Initialised before any handler is set: on signal-with-start, handlers run before this body.
  const slotted = patchedSince(SLOTS_PATCH);
  const shared = slotted && patchedSince(SHARED_BUCKET_PATCH);
  const state: ChannelState = input.carried ?? {
    queue: [],
    seq: 0,
    tokens: pace.burst,
    tokensAt: Date.now(),
    granted: [],
    inFlight: [],
    lastBusyAt: Date.now(),
  };
  state.inFlight ??= [];
  /** Grant signals on their way; awaited before the run ends or continues as new. */
  const signalling = new Set<Promise<void>>();
  let digestWriting: Promise<void> | undefined;
  let reporting: Promise<void> | undefined;
  let reportedWaiting = -1;
  let reportedAt = 0;
  let woken = false;
  /** Requests queued since the pacer last told waiting posts their place. */
  let unplaced: string[] = [];

  setHandler(channelTurnRequestSignal, (request) => {
    if (state.granted.includes(request.requestId) || state.queue.some((t) => t.requestId === request.requestId)) return;
    state.seq += 1;
    state.queue.push({ ...request, seq: state.seq });
    if (request.installationId !== undefined) state.installationId = request.installationId;
    if (request.retryAfterMs !== undefined) {
      if (shared) state.pauseUntil = Math.max(state.pauseUntil ?? 0, Date.now() + request.retryAfterMs);
      else pauseFor(request.retryAfterMs);
    }
    if (request.kind === 'post') {
      unplaced.push(request.requestId);
      state.holdsPosts = true;
    }
    state.lastBusyAt = Date.now();
    if (request.kind === 'post' && state.storm) {
      state.storm.counts[request.severity] += 1;
      noteNewest(state.storm, request);
      state.storm.lastArrivalAt = Date.now();
      state.storm.changed = true;
    }
    woken = true;
  });

  setHandler(channelTurnWithdrawalSignal, ({ requestId, state: ended, waits }) => {
    const index = state.queue.findIndex((t) => t.requestId === requestId);
    if (index < 0) return; // granted already: the alert itself knows it ended
    const queued = state.queue[index] as QueuedTurn;
    if (waits && queued.kind === 'post' && ended) {
      // Decided like a post that had ended before it asked (declineEndedPosts).
      queued.ended = ended;
      woken = true;
      return;
    }
    const [turn] = state.queue.splice(index, 1) as [QueuedTurn];
    if (turn.kind !== 'post' || !ended) return;
    // An alert that ended before its turn is never posted as firing: it is listed in the digest,
    // which appears for it if it is not there yet.
    const fresh = !state.storm;
    const storm = state.storm ?? startStorm();
    if (fresh) storm.counts[turn.severity] += 1;
    storm.withdrawn.unshift({ alertId: turn.alertId, title: turn.title, severity: turn.severity, state: ended });
    if (storm.withdrawn.length > REMEMBERED_WITHDRAWN) storm.withdrawn.pop();
    storm.changed = true;
    woken = true;
  });

  setHandler(channelTurnDoneSignal, ({ requestId }) => {
    state.inFlight = state.inFlight.filter((turn) => turn.requestId !== requestId);
    woken = true;
  });

  setHandler(channelQueuePositionQuery, (requestId) => {
    const turn = state.queue.find((t) => t.requestId === requestId);
    return turn ? state.queue.filter((other) => comesBefore(other, turn)).length : undefined;
  });

  function startStorm(): Storm {
    const storm: Storm = {
      startedAt: new Date().toISOString(),
      counts: { critical: 0, error: 0, warning: 0, info: 0 },
      posted: 0,
      newest: [],
      withdrawn: [],
      changed: true,
      lastArrivalAt: Date.now(),
    };
    for (const turn of [...state.queue].sort((a, b) => a.seq - b.seq)) {
      if (turn.kind !== 'post') continue;
      storm.counts[turn.severity] += 1;
      noteNewest(storm, turn);
    }
    state.storm = storm;
    log.info('Storm mode: alerts wait for their turn in the channel', { channelId, waiting: waitingPosts().length });
    return storm;
  }

  function waitingPosts(): QueuedTurn[] {
    return state.queue.filter((t) => t.kind === 'post').sort(byPriority);
  }

  function refill(now: number): void {
    if (slotted && state.tokensAt >= now) return; // slots handed out ahead: the bucket stands at their end
    state.tokens = Math.min(pace.burst, state.tokens + ((now - state.tokensAt) / 1000) * pace.postsPerSecond);
    state.tokensAt = now;
  }

  /**
   * The earliest slot (workflow time, ms) for a turn of this kind. Posts and the digest go after
   * the slots already handed out, and only while the bucket keeps `reservedForCalls` back; a call
   * may use that reserve at once, before posts already scheduled (they were scheduled leaving it).
   */
  function slotFor(kind: 'call' | 'post' | 'digest', now: number): number {
    const needed = tokensNeeded(kind);
    const from = kind === 'call' ? now : Math.max(now, state.tokensAt);
    if (state.tokens >= needed) return from;
    return Math.max(from, state.tokensAt) + ((needed - state.tokens) / pace.postsPerSecond) * 1000;
  }

  /**
   * Slack refused a call into the channel (429): its allowance is empty until Retry-After is over.
   * No slot is handed out before then, and then one turn is there (Slack's Retry-After says when
   * one call may go again); the refused call asks again, and calls go first.
   */
  function pauseFor(retryAfterMs: number): void {
    const until = Date.now() + retryAfterMs;
    if (state.tokensAt >= until) return;
    refill(Date.now());
    state.tokens = Math.min(state.tokens, 1);
    state.tokensAt = until;
  }

  /** Spends one token at `slot`. */
  function takeSlot(slot: number): void {
    if (slot > state.tokensAt) {
      state.tokens = Math.min(pace.burst, state.tokens + ((slot - state.tokensAt) / 1000) * pace.postsPerSecond);
      state.tokensAt = slot;
    }
    state.tokens -= 1;
  }

  /** Turns a request of this kind needs in the bucket before it may go. */
  function tokensNeeded(kind: 'call' | 'post' | 'digest'): number {
    return kind === 'call' ? 1 : 1 + Math.min(pace.reservedForCalls, pace.burst - 1);
  }

  function grant(turn: QueuedTurn, slot?: number): void {
    state.queue.splice(state.queue.indexOf(turn), 1);
    if (slot === undefined) {
      state.tokens -= 1;
      state.inFlight.push({ requestId: turn.requestId, grantedAt: Date.now() });
    } else if (!shared) {
      takeSlot(slot);
    }
    state.granted.push(turn.requestId);
    if (state.granted.length > REMEMBERED_REQUESTS) state.granted.shift();
    if (turn.kind === 'post' && state.storm) {
      state.storm.posted += 1;
      state.storm.changed = true;
    }
    const signalled = getExternalWorkflowHandle(turn.workflowId)
      .signal(channelTurnSignal, { requestId: turn.requestId, notBefore: slot })
      .catch((error: unknown) => {
        // The alert ended (or was never there): its turn goes to the next one.
        log.info('Turn not delivered; given back', { requestId: turn.requestId, error: String(error) });
        if (slot === undefined) state.tokens = Math.min(pace.burst, state.tokens + 1);
        state.inFlight = state.inFlight.filter((t) => t.requestId !== turn.requestId);
      })
      .finally(() => {
        signalling.delete(signalled);
        woken = true;
      });
    signalling.add(signalled);
  }

  /** Whether another alert message may go now: not too many granted ones still on their way to Slack. */
  function roomInFlight(now: number): boolean {
    if (slotted) return true;
    state.inFlight = state.inFlight.filter((turn) => now - turn.grantedAt < pace.inFlightTimeoutMs);
    const digestPosting = digestWriting && state.storm && !state.storm.digest ? 1 : 0;
    return state.inFlight.length + digestPosting < pace.maxPostsInFlight;
  }

  /**
   * Alerts that had ended before they asked to be posted: in a storm (or behind a queue) they are
   * listed in the digest and told not to post; otherwise they wait for their turn like any post.
   */
  function declineEndedPosts(): void {
    for (const turn of [...state.queue]) {
      if (turn.kind !== 'post' || !turn.ended) continue;
      const othersWaiting = state.queue.some((other) => other !== turn && other.kind === 'post');
      if (!state.storm && !othersWaiting) continue;
      state.queue.splice(state.queue.indexOf(turn), 1);
      const fresh = !state.storm;
      const storm = state.storm ?? startStorm();
      if (fresh) storm.counts[turn.severity] += 1;
      storm.withdrawn.unshift({ alertId: turn.alertId, title: turn.title, severity: turn.severity, state: turn.ended });
      if (storm.withdrawn.length > REMEMBERED_WITHDRAWN) storm.withdrawn.pop();
      storm.changed = true;
      state.granted.push(turn.requestId);
      if (state.granted.length > REMEMBERED_REQUESTS) state.granted.shift();
      const signalled = getExternalWorkflowHandle(turn.workflowId)
        .signal(channelTurnSignal, { requestId: turn.requestId, declined: true })
        .catch(() => undefined) // the alert has nothing left to post
        .finally(() => {
          signalling.delete(signalled);
          woken = true;
        });
      signalling.add(signalled);
    }
  }

  /** Hands out every turn the bucket allows, best first; posts the digest when a storm needs one. */
  async function grantTurns(now: number): Promise<void> {
    if (shared) {
      declineEndedPosts();
      await grantSharedSlots(now);
      return;
    }
    refill(now);
    declineEndedPosts();
    if (slotted) {
      grantSlots(now);
      return;
    }
    for (;;) {
      const next = state.queue.reduce<QueuedTurn | undefined>(
        (best, turn) => (!best || byPriority(turn, best) < 0 ? turn : best),
        undefined
      );
      if (next?.kind === 'call' && state.tokens >= tokensNeeded('call')) {
        grant(next);
        continue;
      }
      const storm = state.storm;
      if (storm && !storm.digest && !digestWriting && roomInFlight(now) && state.tokens >= tokensNeeded('digest')) {
        state.tokens -= 1;
        writeDigest(storm, now);
        continue;
      }
      if (next?.kind === 'post' && roomInFlight(now) && state.tokens >= tokensNeeded('post')) {
        grant(next);
        if (!state.storm && waitingPosts().length > pace.stormThreshold) startStorm();
        continue;
      }
      if (!state.storm && waitingPosts().length > pace.stormThreshold) {
        startStorm();
        continue;
      }
      return;
    }
  }

  /** Hands out every slot that comes within `grantAheadMs`: calls first, then the digest, then posts. */
  function grantSlots(now: number): void {
    const horizon = now + pace.grantAheadMs;
    for (;;) {
      const next = bestQueued();
      if (next?.kind === 'call') {
        const slot = slotFor('call', now);
        if (slot > horizon) return;
        grant(next, slot);
        continue;
      }
      const storm = state.storm;
      if (storm && !storm.digest && !digestWriting) {
        const slot = slotFor('digest', now);
        if (slot > horizon) return;
        takeSlot(slot);
        writeDigest(storm, now, slot);
        continue;
      }
      if (next?.kind === 'post') {
        const slot = slotFor('post', now);
        if (slot > horizon) return;
        grant(next, slot);
        if (!state.storm && waitingPosts().length > pace.stormThreshold) startStorm();
        continue;
      }
      if (!state.storm && waitingPosts().length > pace.stormThreshold) {
        startStorm();
        continue;
      }
      return;
    }
  }

  /**
   * Like grantSlots, with each slot taken from the shared bucket: calls first, then the digest,
   * then posts, as long as the bucket gives a slot within `grantAheadMs`. Gives the posts back to
   * the alerts (they take their slots themselves again) once none is held and no storm is on.
   */
  async function grantSharedSlots(now: number): Promise<void> {
    for (;;) {
      const next = bestQueued();
      const storm = state.storm;
      const digestDue = storm !== undefined && !storm.digest && !digestWriting;
      if (!next && !digestDue) break;
      const kind = next?.kind === 'call' ? 'call' : 'post';
      // The bucket said when the next post's slot comes; until then asking again changes nothing
      // (others only take turns), and in a storm every arrival would ask: a local activity each.
      const refusedUntil = state.nextSlotAt === undefined ? undefined : state.nextSlotAt - pace.grantAheadMs;
      if (kind === 'post' && state.pauseUntil === undefined && refusedUntil !== undefined && now < refusedUntil) break;
      const pauseUntil = state.pauseUntil;
      state.pauseUntil = undefined;
      const { slot, taken } = await sharedBucket.takeChannelSlot({
        channelId,
        kind,
        horizonMs: pace.grantAheadMs,
        asker: 'pacer',
        pauseUntil,
        pace,
      });
      if (!taken) {
        state.nextSlotAt = slot;
        return;
      }
      state.nextSlotAt = undefined;
      state.lastSlotAt = Math.max(state.lastSlotAt ?? 0, slot);
      if (kind === 'post' && digestDue && state.storm === storm && !storm.digest && !digestWriting) {
        writeDigest(storm, now, slot);
        continue;
      }
      // The turn left the queue while its slot was taken (withdrawn): the slot goes unused.
      if (!next || !state.queue.includes(next)) continue;
      grant(next, slot);
      if (!state.storm && waitingPosts().length > pace.stormThreshold) startStorm();
    }
    if (!state.storm && waitingPosts().length > pace.stormThreshold) startStorm();
    if (state.holdsPosts && !state.storm && waitingPosts().length === 0) {
      state.holdsPosts = false;
      await sharedBucket.releaseChannelPosts({ channelId });
    }
  }

  function bestQueued(): QueuedTurn | undefined {
    return state.queue.reduce<QueuedTurn | undefined>(
      (best, turn) => (!best || byPriority(turn, best) < 0 ? turn : best),
      undefined
    );
  }

  /**
   * Tells each post queued since the last time how many turns are ahead of it (the alert shows it
   * in the Web UI). Once, and only to posts that did not get their turn at once.
   */
  function tellPlaces(): void {
    if (!slotted || unplaced.length === 0) return;
    const told = unplaced.slice(0, POSITIONS_PER_TASK);
    unplaced = unplaced.slice(POSITIONS_PER_TASK);
    for (const requestId of told) {
      const turn = state.queue.find((t) => t.requestId === requestId);
      if (!turn) continue;
      const ahead = state.queue.filter((other) => comesBefore(other, turn)).length;
      const signalled = getExternalWorkflowHandle(turn.workflowId)
        .signal(channelQueuePositionSignal, { requestId, ahead })
        .catch(() => undefined) // only for the Web UI
        .finally(() => {
          signalling.delete(signalled);
          woken = true;
        });
      signalling.add(signalled);
    }
  }

  /** Posts the digest, or rewrites it in place; in the background, so that turns keep flowing. */
  function writeDigest(storm: Storm, now: number, notBefore?: number): void {
    const view = digestView(storm);
    storm.changed = false;
    storm.digestWrittenAt = now;
    const ref = storm.digest;
    const team = { slackChannelId: channelId, installationId: state.installationId };
    digestWriting = (async () => {
      try {
        if (ref) await digest.updateChannelDigest({ message: ref, view, team });
        else storm.digest = await digest.postChannelDigest(view, { team, notBefore });
      } catch (error) {
        log.warn('Storm digest not written', { channelId, error: String(error) });
        storm.changed = true;
      } finally {
        digestWriting = undefined;
        woken = true;
      }
    })();
  }

  function digestView(storm: Storm, endedAt?: string): ChannelDigestView {
    return {
      channelId,
      startedAt: storm.startedAt,
      endedAt,
      counts: { ...storm.counts },
      posted: storm.posted,
      newest: storm.newest.map((alert) => ({ ...alert })),
      waiting: waitingPosts().map(({ alertId, title, severity }) => ({ alertId, title, severity })),
      withdrawn: storm.withdrawn.map((alert) => ({ ...alert })),
    };
  }

  /** Rewrites the digest when it is due; ends the storm once nothing waits and nothing new came. */
  async function tendStorm(now: number): Promise<void> {
    const storm = state.storm;
    if (!storm || digestWriting) return;
    // With slots, the last posts granted may still be on their way (their slot ahead of now).
    const lastSlot = shared ? (state.lastSlotAt ?? 0) : state.tokensAt;
    const slotsPassed = !slotted || now >= lastSlot;
    const stormOver = waitingPosts().length === 0 && slotsPassed && now - storm.lastArrivalAt >= pace.stormOverAfterMs;
    if (stormOver) {
      state.storm = undefined;
      log.info('Storm over', { channelId, posted: storm.posted, withdrawn: storm.withdrawn.length });
      if (storm.digest) {
        try {
          await digest.updateChannelDigest({
            message: storm.digest,
            view: digestView(storm, new Date().toISOString()),
            team: { slackChannelId: channelId, installationId: state.installationId },
          });
        } catch (error) {
          log.warn('Final storm digest not written', { channelId, error: String(error) });
        }
      }
      return;
    }
    const due = storm.digestWrittenAt === undefined || now - storm.digestWrittenAt >= pace.digestIntervalMs;
    if (storm.digest && storm.changed && due) writeDigest(storm, now);
  }

  /** Reports the queue length to metrics when it changed (at most every few seconds), in the background. */
  function reportQueue(now: number): void {
    const waiting = state.queue.length;
    if (waiting === reportedWaiting || reporting) return;
    if (waiting !== 0 && now - reportedAt < pace.metricsIntervalMs) return;
    reportedWaiting = waiting;
    reportedAt = now;
    reporting = metrics
      .reportChannelQueue({ channelId, waiting })
      .catch(() => undefined) // best effort: the next change reports again
      .finally(() => {
        reporting = undefined;
        woken = true;
      });
  }

  /** How long until something is due: the next turn, a digest rewrite, the storm's end, idleness. */
  function msUntilDue(now: number): number | undefined {
    const due: number[] = [];
    const next = bestQueued();
    const digestToPost = state.storm && !state.storm.digest && !digestWriting;
    const blockedInFlight = next?.kind !== 'call' && !roomInFlight(now);
    if (shared) {
      if (next || digestToPost) due.push((state.nextSlotAt ?? now) - pace.grantAheadMs - now);
    } else if (slotted) {
      if (next?.kind === 'call') due.push(slotFor('call', now) - pace.grantAheadMs - now);
      else if (digestToPost) due.push(slotFor('digest', now) - pace.grantAheadMs - now);
      else if (next) due.push(slotFor('post', now) - pace.grantAheadMs - now);
    } else if (blockedInFlight) {
      // A done signal (or the digest's post) wakes the pacer; a turn never reported over frees its
      // place at its timeout.
      if (state.inFlight.length > 0)
        due.push(Math.min(...state.inFlight.map((t) => t.grantedAt)) + pace.inFlightTimeoutMs - now);
    } else if (next || digestToPost) {
      const needed = next ? tokensNeeded(next.kind) : tokensNeeded('digest');
      due.push(((needed - state.tokens) / pace.postsPerSecond) * 1000);
    }
    const storm = state.storm;
    if (storm) {
      if (storm.changed && storm.digest) due.push((storm.digestWrittenAt ?? 0) + pace.digestIntervalMs - now);
      if (waitingPosts().length === 0) {
        due.push(storm.lastArrivalAt + pace.stormOverAfterMs - now);
        const lastSlot = shared ? (state.lastSlotAt ?? 0) : state.tokensAt;
        if (slotted && lastSlot > now) due.push(lastSlot - now);
      }
    }
    if (state.queue.length > 0 && reportedWaiting !== state.queue.length)
      due.push(reportedAt + pace.metricsIntervalMs - now);
    if (state.queue.length === 0 && !storm) due.push(state.lastBusyAt + pace.idleExitMs - now);
    return due.length > 0 ? Math.max(Math.ceil(Math.min(...due)), 1) : undefined;
  }

  function showInWebUi(): void {
    const calls = state.queue.filter((t) => t.kind === 'call').length;
    const waiting = state.queue.length - calls;
    const storm = state.storm
      ? ` · **storm** since ${state.storm.startedAt.slice(11, 19)} UTC: ${state.storm.posted} posted, ` +
        `${state.storm.withdrawn.length} ended before their turn`
      : '';
    setCurrentDetails(`${waiting} alert messages and ${calls} thread calls waiting${storm}`);
  }

  for (;;) {
    woken = false;
    const now = Date.now();
    await grantTurns(now);
    tellPlaces();
    await tendStorm(now);
    reportQueue(now);
    showInWebUi();

    const idle = state.queue.length === 0 && !state.storm && now - state.lastBusyAt >= pace.idleExitMs;
    const info = workflowInfo();
    const historyIsLong = info.historyLength > maxHistoryEvents || info.continueAsNewSuggested;
    if ((idle || historyIsLong) && signalling.size === 0 && !digestWriting && !reporting && allHandlersFinished()) {
      if (idle) return;
      // Nothing can arrive between this check and the call: a signal would fail the task, and it
      // would run again with the signal in hand.
      await continueAsNew<typeof channelWorkflow>({ ...input, carried: state });
    }

    const waitMs = msUntilDue(now);
    if (waitMs === undefined) await condition(() => woken);
    else await condition(() => woken, waitMs);
  }
}

/** Calls first, then alert messages by severity, then arrival. Negative when `a` goes before `b`. */
function byPriority(a: QueuedTurn, b: QueuedTurn): number {
  if (a.kind !== b.kind) return a.kind === 'call' ? -1 : 1;
  if (a.severity !== b.severity) return SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
  return a.seq - b.seq;
}

function comesBefore(a: QueuedTurn, b: QueuedTurn): boolean {
  return a !== b && byPriority(a, b) < 0;
}

function noteNewest(storm: Storm, turn: ChannelTurnRequest): void {
  storm.newest.unshift({ alertId: turn.alertId, title: turn.title, severity: turn.severity });
  if (storm.newest.length > NEWEST_TITLES) storm.newest.pop();
}
