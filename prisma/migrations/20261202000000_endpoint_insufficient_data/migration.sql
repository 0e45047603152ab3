-- CreateEnum
CREATE TYPE "InsufficientDataPolicy" AS ENUM ('ignore', 'firing');

-- AlterTable
ALTER TABLE "endpoints" ADD COLUMN     "insufficient_data" "InsufficientDataPolicy" NOT NULL DEFAULT 'ignore';
