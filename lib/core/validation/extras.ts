/**
 * Checks of `notifications`, `images` and `tags`.
 */
import { LIMITS } from '../plan';
import type { IssueCollector } from './collector';

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const IMAGE_RE = /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*:[\w][\w.-]{0,127}$/;
const TAG_KEY_RE = /^[a-zA-Z][a-zA-Z0-9_-]{0,62}$/;

type Fields = Record<string, unknown>;

export function checkNotifications(c: IssueCollector, plan: Fields): void {
  if (!c.object('notifications', plan.notifications, 'give notifications: { emails: [...] }, or leave it out.', true)) return;
  const n = plan.notifications;
  c.unknownKeys('notifications', n, ['emails']);
  if (n.emails === undefined) return;
  if (!Array.isArray(n.emails)) c.error('notifications.emails', n.emails, 'must be a list of e-mail addresses.', 'give e.g. ["oncall@example.com"].');
  else n.emails.forEach((e, i) => { if (typeof e !== 'string' || !EMAIL_RE.test(e)) c.error(`notifications.emails[${i}]`, e, 'is not an e-mail address.', 'give an address such as "oncall@example.com".'); });
}

export function checkImages(c: IssueCollector, plan: Fields): void {
  if (!c.object('images', plan.images, 'give images: { application, jobs }, or leave it out.', true)) return;
  const im = plan.images;
  c.unknownKeys('images', im, ['application', 'jobs', 'keepReleases']);
  for (const key of ['application', 'jobs'] as const) {
    if (im[key] !== undefined && (typeof im[key] !== 'string' || !IMAGE_RE.test(im[key] as string))) {
      c.error(`images.${key}`, im[key], 'is not a repository:tag image reference without a registry host.', 'give e.g. "contact-centre-app:1.4.2"; each side pulls it from its own registry.');
    }
  }
  c.integer('images.keepReleases', im.keepReleases, 1, LIMITS.maxKeepReleases,
    `give how many releases of each image the counterparty registries keep (1-${LIMITS.maxKeepReleases}); the standby can roll back to any of them.`);
}

export function checkTags(c: IssueCollector, plan: Fields): void {
  if (!c.object('tags', plan.tags, 'give tags as { key: "value" }, or leave it out.', true)) return;
  for (const [k, v] of Object.entries(plan.tags)) {
    if (!TAG_KEY_RE.test(k)) c.error(`tags.${k}`, k, 'is not a tag key every provider accepts.', 'use 1-63 letters, digits, underscores and hyphens, starting with a letter.');
    if (typeof v !== 'string' || v.length > 63 || !/^[\w.-]*$/.test(v)) c.error(`tags.${k}`, v, 'is not a tag value every provider accepts.', 'use up to 63 letters, digits, underscores, dots and hyphens.');
  }
}
