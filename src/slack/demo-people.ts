/**
 * The people of the `demo` team that a newcomer's first start creates (main.ts). They exist in no
 * Slack workspace: the dry run, which asks no Slack, names them itself (its `displayNameOf`), so
 * that the preview shows people by name as Slack would. Anyone else in a dry run has no name to
 * look up and is shown by id.
 */
export const DEMO_PEOPLE: Readonly<Record<string, string>> = {
  U0DEMO1: 'Ada (demo)',
  U0DEMO2: 'Grace (demo)',
};
