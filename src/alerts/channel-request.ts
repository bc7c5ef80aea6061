import type { ChannelKind } from '../db/schema.js'
import type { AlertText } from './alert-text.js'
import { webhookHeaders } from '../crypto/standard-webhooks.js'

// The request each kind of channel takes, as its provider documents it:
// - webhook: Standard Webhooks — {"type","timestamp","data"} signed with the channel's whsec_ secret;
// - Slack incoming webhook: {"text"} in mrkdwn (&, <, > escaped; links as <url|label>);
// - Microsoft Teams (Workflows "post to a channel when a webhook request is received"): a message
//   carrying one Adaptive Card attachment;
// - Google Chat incoming webhook: {"text"} with <url|label> links, JSON in UTF-8;
// - Chatwork: POST /rooms/{room_id}/messages, the token in X-ChatWorkToken, a form with `body`.

export interface ChannelTarget { kind: Exclude<ChannelKind, 'email'>, url: string | null, secret: string | null, roomId: string | null }

export interface OutgoingAlert {
  /** The delivery's id: the webhook-id, the same on every retry. */
  id: string
  type: string
  data: Record<string, unknown>
  createdAt: Date
  text: AlertText
  /** The console page of what happened. */
  link: string
}

export interface AlertRequest { url: string, headers: Record<string, string>, body: string }

const slackEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function json (url: string, payload: unknown, contentType = 'application/json'): AlertRequest {
  return { url, headers: { 'content-type': contentType }, body: JSON.stringify(payload) }
}

export function alertRequest (target: ChannelTarget, alert: OutgoingAlert, chatworkApiUrl: string, now = Date.now()): AlertRequest {
  const { title, detail, open } = alert.text
  switch (target.kind) {
    case 'webhook': {
      const body = JSON.stringify({ type: alert.type, timestamp: alert.createdAt.toISOString(), data: { ...alert.data, url: alert.link } })
      return { url: need(target.url), headers: { 'content-type': 'application/json', ...webhookHeaders(need(target.secret), `msg_${alert.id}`, body, now) }, body }
    }
    case 'slack':
      return json(need(target.url), { text: `*${slackEscape(title)}*\n${slackEscape(detail)}\n<${alert.link}|${slackEscape(open)}>` })
    case 'google_chat':
      return json(need(target.url), { text: `*${title}*\n${detail}\n<${alert.link}|${open}>` }, 'application/json; charset=UTF-8')
    case 'teams':
      return json(need(target.url), {
        type: 'message',
        attachments: [{
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            body: [{ type: 'TextBlock', text: title, weight: 'Bolder', size: 'Medium', wrap: true }, { type: 'TextBlock', text: detail, wrap: true }],
            actions: [{ type: 'Action.OpenUrl', title: open, url: alert.link }]
          }
        }]
      })
    case 'chatwork':
      return {
        url: `${chatworkApiUrl.replace(/\/+$/, '')}/rooms/${encodeURIComponent(need(target.roomId))}/messages`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-chatworktoken': need(target.secret) },
        body: new URLSearchParams({ body: `[info][title]${title}[/title]${detail}\n${open}: ${alert.link}[/info]`, self_unread: '0' }).toString()
      }
  }
}

function need (value: string | null): string {
  if (value === null) throw new Error('the channel is missing its address or secret: edit it and save it again')
  return value
}
