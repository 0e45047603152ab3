export default async function globalTeardown(): Promise<void> {
  const servers = globalThis.__escalatorTestServers;
  await servers?.temporal?.teardown();
  await servers?.stopPostgres?.();
}
