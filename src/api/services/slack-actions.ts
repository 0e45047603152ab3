/** Button presses on alert messages: signalled to the alert's workflow, with replies to the presser. */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { actionSignal, type AlertActionTaken } from '../../workflows/definitions';
import { TemporalUnavailableError } from '../errors';
import { callTemporal, INTERACTION_TEMPORAL_TIMEOUT_MS } from './temporal-calls';

/** What became of a press: taken by the workflow, too late (alert over), or not taken (Temporal down). */
export type PressOutcome = 'recorded' | 'alert-ended' | 'temporal-unavailable';

/** Signals a press to the alert's workflow within Slack's 3-second window. */
export async function recordButtonPress(
  temporal: Client,
  workflowId: string,
  press: AlertActionTaken
): Promise<PressOutcome> {
  try {
    await callTemporal(temporal, `signal ${press.action} to ${workflowId}`, INTERACTION_TEMPORAL_TIMEOUT_MS, () =>
      temporal.workflow.getHandle(workflowId).signal(actionSignal, press)
    );
    return 'recorded';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'alert-ended';
    if (error instanceof TemporalUnavailableError) return 'temporal-unavailable';
    throw error;
  }
}

/** Replies through an interaction's `response_url` (valid 30 minutes, 5 uses). */
export interface SlackResponder {
  /** Posts a message that only the person who pressed sees; the alert message stays as it is. */
  replyEphemeral(responseUrl: string, text: string): Promise<void>;
}

const RESPONSE_URL_TIMEOUT_MS = 5_000;

/** The real responder: a JSON POST to the response_url Slack gave in the (verified) payload. */
export function createSlackResponder(timeoutMs = RESPONSE_URL_TIMEOUT_MS): SlackResponder {
  return {
    async replyEphemeral(responseUrl, text) {
      const response = await fetch(responseUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new Error(`response_url answered ${response.status}`);
    },
  };
}
