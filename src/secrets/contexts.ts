/**
 * What each kind of sealed secret is bound to (the additional data of its seal), so that a value
 * copied onto another row does not open. Rotation rewraps every kind, so the contexts live here,
 * beside the box, and the stores that seal secrets take them from here.
 */

/** Binds a sealed Slack installation to its workspace's row. */
export function installationContext(slackTeamId: string): string {
  return `slack-installation:${slackTeamId}`;
}
