/**
 * Public webmail domains: anyone can open a mailbox there, so listing one for self sign-up would
 * let the whole world in. Refused unless the org policy `blockPublicWebmailDomains` is off.
 * Not exhaustive (no list can be); it holds the providers people actually type.
 */
export const PUBLIC_WEBMAIL_DOMAINS: ReadonlySet<string> = new Set([
	// Google, Microsoft, Yahoo, Apple, AOL
	'gmail.com', 'googlemail.com',
	'outlook.com', 'hotmail.com', 'hotmail.co.uk', 'hotmail.fr', 'hotmail.de', 'hotmail.it', 'hotmail.es', 'live.com', 'live.co.uk', 'live.fr', 'msn.com', 'passport.com',
	'yahoo.com', 'yahoo.co.uk', 'yahoo.fr', 'yahoo.de', 'yahoo.es', 'yahoo.it', 'yahoo.co.jp', 'yahoo.com.br', 'yahoo.co.in', 'ymail.com', 'rocketmail.com',
	'icloud.com', 'me.com', 'mac.com',
	'aol.com', 'aim.com', 'verizon.net',
	// Privacy-minded providers
	'proton.me', 'protonmail.com', 'protonmail.ch', 'pm.me', 'tutanota.com', 'tutanota.de', 'tuta.io', 'tuta.com', 'mailfence.com', 'posteo.de', 'posteo.net',
	'fastmail.com', 'fastmail.fm', 'hey.com', 'zoho.com', 'zohomail.com', 'hushmail.com',
	// GMX, WEB.DE, mail.com (United Internet)
	'gmx.com', 'gmx.net', 'gmx.de', 'gmx.at', 'gmx.ch', 'gmx.fr', 'gmx.co.uk', 'gmx.us', 'web.de', 'mail.com', 'email.com', 'usa.com',
	// Russia and neighbours
	'mail.ru', 'bk.ru', 'inbox.ru', 'list.ru', 'internet.ru', 'yandex.ru', 'yandex.com', 'yandex.by', 'yandex.kz', 'yandex.ua', 'ya.ru', 'rambler.ru', 'ukr.net',
	// China, Korea, Japan
	'qq.com', 'foxmail.com', '163.com', '126.com', 'yeah.net', 'sina.com', 'sina.cn', 'sohu.com', 'aliyun.com', 'naver.com', 'daum.net', 'hanmail.net',
	// Europe and elsewhere
	't-online.de', 'freenet.de', 'orange.fr', 'wanadoo.fr', 'free.fr', 'laposte.net', 'sfr.fr', 'libero.it', 'virgilio.it', 'tiscali.it', 'seznam.cz', 'wp.pl', 'o2.pl', 'onet.pl', 'interia.pl',
	'btinternet.com', 'sky.com', 'rediffmail.com', 'comcast.net', 'att.net', 'sbcglobal.net', 'bigpond.com', 'shaw.ca', 'rogers.com', 'bol.com.br', 'uol.com.br', 'terra.com.br',
	// Throwaway mailboxes
	'mailinator.com', 'guerrillamail.com', 'sharklasers.com', '10minutemail.com', 'temp-mail.org', 'yopmail.com', 'trashmail.com', 'dispostable.com',
]);

/** Whether a normalised (lower-case ASCII) domain is a public webmail provider. */
export function isPublicWebmailDomain(domain: string): boolean {
	return PUBLIC_WEBMAIL_DOMAINS.has(domain);
}
