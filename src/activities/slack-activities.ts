/** Slack activities. Placeholder signatures: the implementation lands with the Slack work. */
import type { AlertHolder, AlertView } from '../domain/alert';
import type { SlackMessageRef } from '../slack/client';
import type { ActivityDeps } from './index';

export function createSlackActivities(_deps: ActivityDeps) {
  return {
    /** Posts the alert to its team channel with the Acknowledge / Close / Pass buttons. */
    async postAlertMessage(_view: AlertView): Promise<SlackMessageRef> {
      throw new Error('not implemented');
    },
    /** Rewrites the alert message to show the current state (chat.update). */
    async updateAlertMessage(_input: { message: SlackMessageRef; view: AlertView }): Promise<void> {
      throw new Error('not implemented');
    },
    /** Calls an engineer (`<@U…>`) or the whole team (`<!channel>`) in the alert's thread. */
    async notifyInThread(_input: { message: SlackMessageRef; view: AlertView; calling: AlertHolder }): Promise<void> {
      throw new Error('not implemented');
    },
    /** Sends the engineer being called a direct message about the alert. */
    async sendDirectMessage(_input: { userId: string; view: AlertView; message?: SlackMessageRef }): Promise<void> {
      throw new Error('not implemented');
    },
  };
}
