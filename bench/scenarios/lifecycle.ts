/**
 * CPU per alert lifecycle: open, acknowledge, close, as people do them, while nothing else runs;
 * and, as a reference, the same lifecycle driven by the bench straight over Temporal's API.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { blockActionsPayload, signedInteraction } from '../../test/helpers/slack-requests';
import { cpuSplit, mapConcurrently, record, SCALE, TARGETS, totalCpu, type BenchContext } from '../harness';

/** Lifecycles run this many at a time, each sender in a channel of its own. */
const LIFECYCLE_SENDERS = 10;

/**
 * The engine's own floor for an alert's lifecycle: the dev server's work for an alert that is
 * opened, acknowledged and closed with nothing else done, as this bench drives it directly over
 * Temporal's API (no SDK, no activities, no search attributes): a signal-with-start and two
 * signals, each answered by a workflow task that this function completes itself, the last one
 * completing the workflow. Run `count` times, `senders` at a time (a task queue each). Resolves
 * when every run has ended; the caller reads the dev server's CPU around it.
 */
async function bareEngineLifecycles(temporal: Client, count: number, senders: number): Promise<void> {
  const service = temporal.workflowService;
  const { namespace } = temporal.options;
  const identity = 'escalator-bench';
  const { CommandType, TaskQueueKind } = proto.api.enums.v1;
  async function completeNextTask(taskQueue: string, completes: boolean): Promise<void> {
    for (;;) {
      // A long poll: the server wants a deadline, and answers empty a little before it.
      const task = await temporal.withDeadline(Date.now() + 70_000, () =>
        service.pollWorkflowTaskQueue({
          namespace,
          identity,
          taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        })
      );
      if (!task.taskToken?.length) continue; // the long poll ran out with nothing to do
      const commands = completes
        ? [
            {
              commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
              completeWorkflowExecutionCommandAttributes: {},
            },
          ]
        : [];
      await service.respondWorkflowTaskCompleted({ namespace, identity, taskToken: task.taskToken, commands });
      return;
    }
  }
  await mapConcurrently(senders, senders, async (sender) => {
    const taskQueue = `bench-bare-${sender}-${randomUUID()}`;
    for (let i = sender; i < count; i += senders) {
      const workflowId = `bare/${randomUUID()}`;
      await service.signalWithStartWorkflowExecution({
        namespace,
        identity,
        workflowId,
        requestId: randomUUID(),
        workflowType: { name: 'bareLifecycle' },
        taskQueue: { name: taskQueue },
        signalName: 'opened',
      });
      await completeNextTask(taskQueue, false);
      for (const signalName of ['acknowledged', 'closed']) {
        await service.signalWorkflowExecution({
          namespace,
          identity,
          requestId: randomUUID(),
          workflowExecution: { workflowId },
          signalName,
        });
        await completeNextTask(taskQueue, signalName === 'closed');
      }
    }
  });
}

/**
 * Whole lifecycles: each of 10 senders has a channel of its own (a quiet channel: one alert at a
 * time), and a button is pressed only once its message is in Slack and shows the last press. CPU of
 * every process per lifecycle, less what the product burns when idle.
 */
export async function measureLifecycles({
  gatewayUrl,
  signingSecret,
  temporal,
  newTeam,
  messageShowing,
  cpuByPart,
  cpuSecondsOfTree,
}: BenchContext): Promise<void> {
  const lifecycleTeams = await Promise.all(Array.from({ length: LIFECYCLE_SENDERS }, () => newTeam('lifecycle')));
  // What the product burns doing nothing (the dev server polls, timers tick), to take away below.
  const idleFrom = cpuByPart();
  const idleStart = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const idleTo = cpuByPart();
  const idleSeconds = (Date.now() - idleStart) / 1000;
  const idleCpuPerSecond = (totalCpu(idleTo) - totalCpu(idleFrom)) / idleSeconds;
  const idleTemporalPerSecond = (idleTo.temporal - idleFrom.temporal) / idleSeconds;
  const cpuAtLifecycles = cpuSecondsOfTree();
  const partsAtLifecycles = cpuByPart();
  const lifecyclesStart = Date.now();
  await mapConcurrently(LIFECYCLE_SENDERS, LIFECYCLE_SENDERS, async (sender) => {
    const team = lifecycleTeams[sender] as (typeof lifecycleTeams)[number];
    for (let i = sender; i < SCALE.lifecycles; i += LIFECYCLE_SENDERS) {
      const title = `Lifecycle ${i} of ${SCALE.lifecycles}`;
      const opened = await fetch(team.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ title, key: `life-${i}` }),
      });
      const { workflowId } = (await opened.json()) as { workflowId: string };
      let seen = await messageShowing(team.channel, title, () => true);
      for (const action of ['ack', 'close'] as const) {
        const request = signedInteraction(
          signingSecret,
          blockActionsPayload({ action, workflowId, userId: 'U0BENCH1', channelId: team.channel })
        );
        await fetch(`${gatewayUrl}/slack/interactions`, {
          method: 'POST',
          headers: request.headers,
          body: request.body,
        });
        const updatesBefore = seen.updates;
        seen = await messageShowing(team.channel, title, (message) => message.updates > updatesBefore);
      }
      await temporal.workflow.getHandle(workflowId).result();
    }
  });
  const lifecycleCpu = cpuSecondsOfTree() - cpuAtLifecycles;
  const lifecycleSplit = cpuSplit(partsAtLifecycles, cpuByPart(), SCALE.lifecycles);
  const idleShare = (idleCpuPerSecond * (Date.now() - lifecyclesStart)) / 1000;
  const cpuPerLifecycle = Math.round(((lifecycleCpu - idleShare) * 1000) / SCALE.lifecycles);
  record({
    name: 'CPU per alert lifecycle (post, ack, close), all processes',
    value: cpuPerLifecycle,
    unit: 'ms',
    target: `≤ ${TARGETS.cpuPerLifecycleMs} ms (half of 115 ms)`,
    ok: cpuPerLifecycle <= TARGETS.cpuPerLifecycleMs,
    note: `${Math.round((lifecycleCpu * 1000) / SCALE.lifecycles)} ms before taking away the idle ${Math.round(idleCpuPerSecond * 1000)} ms/s (${lifecycleSplit})`,
  });

  // The same lifecycles as the engine alone does them, on the same dev server: what the Temporal
  // part of the figure above can come down to.
  const bareFrom = cpuByPart().temporal;
  const bareStart = Date.now();
  await bareEngineLifecycles(temporal, SCALE.lifecycles, LIFECYCLE_SENDERS);
  const bareTemporal = cpuByPart().temporal - bareFrom - (idleTemporalPerSecond * (Date.now() - bareStart)) / 1000;
  record({
    name: 'reference: bare engine lifecycle (signal-with-start, 2 signals, 3 workflow tasks), dev server CPU',
    value: Math.round((bareTemporal * 1000) / SCALE.lifecycles),
    unit: 'ms',
    note: 'driven over the Temporal API by the bench, no worker: no activities, timers or search attributes',
  });
}
