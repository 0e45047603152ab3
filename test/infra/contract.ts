/** The configuration variables of the contract's table (PRODUCT.md), by name. */
export const CONTRACT_VARIABLES = [
  'PORT',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_UI_PORT',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'DATABASE_URL',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_API_URL',
  'ADMIN_TOKEN',
  'ESCALATION_TIMEOUT',
  'PUBLIC_URL',
  'LOG_LEVEL',
] as const;
