// Prisma CLI configuration. The runtime never reads it: the app connects through @prisma/adapter-pg
// with DATABASE_URL (src/db/client.ts) and applies migrations itself (src/db/migrate.ts).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
