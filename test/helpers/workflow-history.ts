/**
 * What reached a workflow, read from its history on the server once the gateway's intake
 * dispatcher has handed it everything the gateway took.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { AlertWorkflowInput } from '../../src/workflows/definitions';
import type { TestGateway } from './gateway';

type Gateway = Pick<TestGateway, 'temporal' | 'dispatched'>;

async function historyOf(gateway: Gateway, workflowId: string) {
  await gateway.dispatched(workflowId);
  return gateway.temporal.workflow.getHandle(workflowId).fetchHistory();
}

/** Names of the signals the workflow received, in order. */
export async function signalNames(gateway: Gateway, workflowId: string): Promise<string[]> {
  const history = await historyOf(gateway, workflowId);
  return (history.events ?? [])
    .map((event) => event.workflowExecutionSignaledEventAttributes?.signalName)
    .filter((name): name is string => !!name);
}

/** The input the alert workflow was started with. */
export async function startInputOf(gateway: Gateway, workflowId: string): Promise<AlertWorkflowInput> {
  const history = await historyOf(gateway, workflowId);
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  return defaultPayloadConverter.fromPayload(started!.input!.payloads![0]!);
}
