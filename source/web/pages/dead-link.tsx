import {DEAD_LINK} from '../../core/invitations.js';
import {MessagePage} from './layout.js';

type DeadLinkCode = (typeof DEAD_LINK)[keyof typeof DEAD_LINK];

/** Each way a link can be dead: its page title and HTTP status (a link that never was is 404; one that was and is no more, 410 Gone). */
export const DEAD_LINK_PAGES: Readonly<Record<DeadLinkCode, {readonly title: string; readonly status: 403 | 404 | 410}>> = {
	[DEAD_LINK.invalid]: {title: 'This invitation link is not valid', status: 404},
	[DEAD_LINK.revoked]: {title: 'This invitation was revoked', status: 410},
	[DEAD_LINK.used]: {title: 'This invitation was already used', status: 410},
	[DEAD_LINK.expired]: {title: 'This invitation has expired', status: 410},
	[DEAD_LINK.suspended]: {title: 'This invitation is on hold', status: 403},
};

export function isDeadLinkCode(code: string | undefined): code is DeadLinkCode {
	return code !== undefined && code in DEAD_LINK_PAGES;
}

/** A dead link's page: its own title, and the core's sentence (the same words `orgctl accept` prints). */
export function DeadLinkPage({code, message}: {readonly code: DeadLinkCode; readonly message: string}) {
	return <MessagePage title={DEAD_LINK_PAGES[code].title} message={message} />;
}
