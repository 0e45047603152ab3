import { CHANNEL_QUEUE_REPORT_TTL_MS, createMetrics } from '../../src/observability/metrics';

afterEach(() => jest.restoreAllMocks());

test('the channel queue length is shown per channel as its pacer last reported it, and a stale report drops out', async () => {
  const metrics = createMetrics(undefined, { defaultMetrics: false });
  metrics.channelQueue.set('C0OPS', 42);
  metrics.channelQueue.set('C0DEV', 0);
  const text = await metrics.registry.metrics();
  expect(text).toContain('escalator_slack_channel_queue_length{channel="C0OPS"} 42');
  expect(text).toContain('escalator_slack_channel_queue_length{channel="C0DEV"} 0');

  // Another worker may run the pacer's next report: this one's old figure must not linger.
  const later = Date.now() + CHANNEL_QUEUE_REPORT_TTL_MS + 1_000;
  jest.spyOn(Date, 'now').mockReturnValue(later);
  expect(await metrics.registry.metrics()).not.toContain('channel="C0OPS"');
});
