/** What reached a workflow, read from its history on the server. */
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { AlertWorkflowInput } from '../../src/workflows/definitions';

/** Names of the signals the workflow received, in order. */
export async function signalNames(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .map((event) => event.workflowExecutionSignaledEventAttributes?.signalName)
    .filter((name): name is string => !!name);
}

/** The input the alert workflow was started with. */
export async function startInputOf(handle: WorkflowHandle): Promise<AlertWorkflowInput> {
  const history = await handle.fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  return defaultPayloadConverter.fromPayload(started!.input!.payloads![0]!);
}
