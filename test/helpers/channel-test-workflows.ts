/**
 * Workflows for the channel pacer's tests: the pacer itself, and a stand-in for an alert workflow
 * that takes one turn through the production turn-taking code (channel-turns.ts).
 */
import { defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Severity } from '../../src/domain/alert';
import { channelTurns } from '../../src/workflows/channel-turns';
import type { ChannelTurnKind } from '../../src/workflows/definitions';

export { channelWorkflow } from '../../src/workflows/channel-workflow';

export interface TurnTakerInput {
  channelId: string;
  alertId: string;
  kind: ChannelTurnKind;
  severity: Severity;
  title: string;
}

export interface TurnTaken {
  alertId: string;
  channelId: string;
  title: string;
  granted: boolean;
  /** When the turn's Slack call may go (its slot), or workflow time when it came or was given up. */
  at: number;
  /** The slot the pacer gave (epoch ms), which the stand-in's "Slack call" waits for. */
  notBefore?: number;
  /** What the pacer said was queued ahead, if it said. */
  ahead?: number;
}

/** The test's own activity: tells the test what became of the turn. */
export interface TurnTakerActivities {
  recordTurn(taken: TurnTaken): Promise<void>;
}

const test = proxyActivities<TurnTakerActivities>({ startToCloseTimeout: '10s' });

/** The alert ended while it waited for its turn. */
export const endedSignal = defineSignal<['closed' | 'resolved']>('ended');

/** Waits for one turn, as an alert workflow does before its post or a thread call. */
export async function turnTaker(input: TurnTakerInput): Promise<TurnTaken> {
  let ended: 'closed' | 'resolved' | undefined;
  setHandler(endedSignal, (state) => void (ended = state));
  const turns = channelTurns({ channelId: input.channelId, alertId: input.alertId });
  let ahead: number | undefined;
  const granted = await turns.take({
    kind: input.kind,
    severity: input.severity,
    title: input.title,
    unwanted: () => (ended ? { state: ended } : undefined),
    onQueued: (n) => (ahead = n),
  });
  const taken = {
    alertId: input.alertId,
    channelId: input.channelId,
    title: input.title,
    granted,
    at: Math.max(turns.notBefore ?? 0, Date.now()),
    notBefore: turns.notBefore,
    ahead,
  };
  await test.recordTurn(taken);
  // The stand-in's "Slack call" (recordTurn) is over: the pacer may let the next one go.
  await turns.done();
  return taken;
}
