/** Fingerprints name alerts: the same problem reported again finds the same open alert. */
import { createHash } from 'node:crypto';

const WORKFLOW_SAFE = /[^A-Za-z0-9._:@=+-]+/g;
const MAX_READABLE_LENGTH = 80;

/** A fingerprint for sources without a key of their own: a hash of source and title. */
export function derivedFingerprint(source: string, title: string): string {
  return createHash('sha256').update(`${source}\n${title}`).digest('hex').slice(0, 16);
}

/**
 * `alert/<team>/<fingerprint>`: readable in the Temporal Web UI, and stable, so that a repeat
 * reaches the open workflow. Long or odd fingerprints (ARNs, URLs) keep a readable tail plus a
 * short hash that keeps them distinct.
 */
export function alertWorkflowId(teamName: string, fingerprint: string): string {
  const readable = fingerprint.replace(WORKFLOW_SAFE, '-').replace(/^-+|-+$/g, '');
  if (readable === fingerprint && readable.length <= MAX_READABLE_LENGTH) return `alert/${teamName}/${readable}`;
  const hash = createHash('sha256').update(fingerprint).digest('hex').slice(0, 10);
  const tail = readable.slice(-(MAX_READABLE_LENGTH - hash.length - 1)).replace(/^-+/, '');
  return `alert/${teamName}/${tail ? `${tail}-` : ''}${hash}`;
}
