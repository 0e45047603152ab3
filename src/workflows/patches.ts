/**
 * Versioning of the workflows' code (FACTS.md: `patched()`). Each change that alters the commands
 * of a running workflow is a patch, kept so that older histories replay. A run records a marker and
 * a search-attribute update for every patch it checks: nine for a new alert, most of the server's
 * writes for a short one. Runs started from now on record one marker instead, `CURRENT_PATCHES`,
 * which stands for every patch made up to it; older runs replay with the patches they recorded.
 * A later change must be checked with a plain `patched()` of its own: runs that recorded
 * `CURRENT_PATCHES` before it existed did not have it.
 */
import { patched } from '@temporalio/workflow';

/** Every patch of the alert workflow, the channel turns and the pacer made up to December 2026 (checked with `patchedSince`). */
const CURRENT_PATCHES = 'patches-2026-12';

/** Whether this run takes the change `patchId` (true for every run that recorded `CURRENT_PATCHES`). */
export function patchedSince(patchId: string): boolean {
  return patched(CURRENT_PATCHES) || patched(patchId);
}
