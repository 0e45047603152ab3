/** What the process logger writes, whoever logs: no task tokens, no line the size of a request body. */
import { Writable } from 'node:stream';
import { createLogger, MAX_LOGGED_STRING_LENGTH } from '../src/logger';
import { sdkLogger } from '../src/worker';

function capturingLogger() {
  const lines: string[] = [];
  const log = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    }),
  });
  return { log, lines };
}

test('drops Temporal task tokens from what the SDK logs about an activity', () => {
  const { log, lines } = capturingLogger();

  // As the Temporal runtime logs an activity's start through the worker's logger.
  sdkLogger(log).debug('Activity started', {
    activityId: '1',
    taskToken: 'CiQ4ZjU0YzQ5Zi1zZWNyZXQ=',
    workflowId: 'alert/ops/x',
  });
  log.debug({ activity: { taskToken: 'CiQ4ZjU0YzQ5Zi1zZWNyZXQ=' } }, 'nested');

  expect(lines.join('')).not.toContain('CiQ4ZjU0YzQ5Zi1zZWNyZXQ=');
  expect(JSON.parse(lines[0]!)).toMatchObject({ activityId: '1', workflowId: 'alert/ops/x', msg: 'Activity started' });
});

test('cuts a 900 KB value from a sender to a short, marked prefix', () => {
  const { log, lines } = capturingLogger();
  const huge = 'a'.repeat(900 * 1024);

  log.info({ workflowId: huge, action: 'ack' }, 'button press');

  expect(lines[0]!.length).toBeLessThan(MAX_LOGGED_STRING_LENGTH + 500);
  expect(JSON.parse(lines[0]!)).toMatchObject({
    action: 'ack',
    workflowId: `${'a'.repeat(MAX_LOGGED_STRING_LENGTH)}… [${900 * 1024} characters]`,
  });
});
