/** The worker's workflow bundle entry: every workflow type Escalator runs. */
export { alertWorkflow } from './alert-workflow';
export { channelWorkflow } from './channel-workflow';
export { scheduleHandoffsWorkflow } from './schedule-handoffs-workflow';
