const TOKEN = /^([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/;

/** `{public URL}/invite/{id}.{secret}` */
export function invitationLink(publicUrl: string, id: string, secret: string): string {
	return `${publicUrl.replace(/\/+$/, '')}/invite/${id}.${secret}`;
}

/** The id and secret in a link or a bare token, or undefined when it is not one of ours. */
export function parseInvitationToken(input: string): {id: string; secret: string} | undefined {
	let text = input.trim();
	const marker = text.lastIndexOf('/invite/');
	if (marker >= 0) text = text.slice(marker + '/invite/'.length);
	text = text.replace(/[?#].*$/, '').replace(/\/+$/, '');
	const match = TOKEN.exec(text);
	return match ? {id: match[1]!, secret: match[2]!} : undefined;
}
