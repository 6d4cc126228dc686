import {useEffect, useRef} from 'react';
import type {Context} from '../../core/context.js';
import {deliverOutbox, hasDueMail} from '../../core/outbox.js';

/** How long the console waits between looks for mail that is due again (retries after a temporary failure). */
const RETRY_POLL_MS = 30_000;

/**
 * While mounted, mail that failed temporarily is retried when due (the back-off is the outbox's),
 * outside the store lock, and `refresh` shows the new status.
 */
export default function useRetryDelivery(ctx: Context, refresh: () => void): void {
	const busy = useRef(false);
	useEffect(() => {
		const tick = () => {
			if (busy.current) return;
			let due: boolean;
			try {
				due = hasDueMail(ctx.store.read(), ctx.now());
			} catch {
				// The store became unusable: the console's refresh ends it with the reason.
				refresh();
				return;
			}
			if (!due) return;
			busy.current = true;
			deliverOutbox(ctx)
				.catch(() => undefined)
				.finally(() => {
					busy.current = false;
					refresh();
				});
		};
		const timer = setInterval(tick, RETRY_POLL_MS);
		timer.unref();
		return () => {
			clearInterval(timer);
		};
	}, [ctx, refresh]);
}
