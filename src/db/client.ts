/** The one PostgreSQL client of a process: Prisma over node-postgres, no native engine. */
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';

export type Database = PrismaClient;
export { Prisma } from '../generated/prisma/client';
export type { AlertState as DbAlertState } from '../generated/prisma/client';

export function createDatabase(databaseUrl: string): Database {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
}
