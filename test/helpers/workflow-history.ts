/**
 * What reached a workflow, read from its history on the server once the gateway's intake
 * dispatcher has handed it everything the gateway took.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { AlertActionTaken, AlertOccurrence, AlertWorkflowInput } from '../../src/workflows/definitions';
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

/**
 * The reports (intake journal entries) the workflow was told about, in order, one per report: the
 * dispatcher folds repeats of one alert that waited together into one signal (`earlierReportIds`).
 */
export async function reportsSignalled(
  gateway: Gateway,
  workflowId: string
): Promise<Array<{ signal: string; reportId: number }>> {
  const history = await historyOf(gateway, workflowId);
  return (history.events ?? []).flatMap((event) => {
    const attributes = event.workflowExecutionSignaledEventAttributes;
    if (!attributes?.signalName) return [];
    const signal = attributes.signalName;
    const payload = defaultPayloadConverter.fromPayload<AlertOccurrence>(attributes.input!.payloads![0]!);
    return [...(payload.earlierReportIds ?? []), payload.reportId!].map((reportId) => ({ signal, reportId }));
  });
}

/** The intake journal ids of the firing reports the workflow was told about, in order. */
export async function occurrenceReportIds(gateway: Gateway, workflowId: string): Promise<number[]> {
  const reports = await reportsSignalled(gateway, workflowId);
  return reports.filter((report) => report.signal === 'occurrence').map((report) => report.reportId);
}

/** The input the alert workflow was started with. */
export async function startInputOf(gateway: Gateway, workflowId: string): Promise<AlertWorkflowInput> {
  const history = await historyOf(gateway, workflowId);
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  return defaultPayloadConverter.fromPayload(started!.input!.payloads![0]!);
}

/** The button presses (action signals) the workflow received, in order. */
export async function actionSignals(gateway: Gateway, workflowId: string): Promise<AlertActionTaken[]> {
  const history = await historyOf(gateway, workflowId);
  return (history.events ?? [])
    .map((event) => event.workflowExecutionSignaledEventAttributes)
    .filter((attributes) => attributes?.signalName === 'action')
    .map((attributes) => defaultPayloadConverter.fromPayload<AlertActionTaken>(attributes!.input!.payloads![0]!));
}
