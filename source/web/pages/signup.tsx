import {Field, Form, Hidden, Page} from './layout.js';

/** What each sign-up step carries forward in hidden fields. */
export type SignupValues = {readonly email?: string | undefined; readonly username?: string | undefined; readonly tenant?: string | undefined; readonly code?: string | undefined};

type StepProps = {readonly csrf: string; readonly values: SignupValues; readonly error?: string | undefined};

/** `GET /signup`: an e-mail address at a whitelisted domain and a username; a code is mailed. */
export function SignupStartPage({csrf, values, error}: StepProps) {
	return (
		<Page title="Sign up" tenant={values.tenant}>
			<p>If your organization lets people with your e-mail domain sign up, you get a code by mail to prove the address is yours.</p>
			<Form action="/signup" csrf={csrf} submit="Mail me a code" error={error}>
				<Hidden name="tenant" value={values.tenant} />
				<Field label="E-mail" name="email" type="email" value={values.email} autoComplete="email" inputMode="email" />
				<Field label="Username" name="username" value={values.username} autoComplete="username" hint="letters, digits, . _ -" />
			</Form>
		</Page>
	);
}

/** The code from the mail (the same page whether or not an account already exists). */
export function SignupCodePage({csrf, values, error, message}: StepProps & {readonly message?: string | undefined}) {
	return (
		<Page title="Enter the code from the mail" tenant={values.tenant}>
			{message ? <p>{message}</p> : null}
			<Form action="/signup/code" csrf={csrf} submit="Next" error={error}>
				<Hidden name="email" value={values.email} />
				<Hidden name="tenant" value={values.tenant} />
				<Field label="Code" name="code" autoComplete="one-time-code" inputMode="numeric" hint={values.email ? `sent to ${values.email}` : undefined} />
			</Form>
			<p className="muted">
				No mail? Check the spam folder, or <a href="/signup">start again</a> for a new code.
			</p>
		</Page>
	);
}

/** The password of the new account (password domains only); the code is checked with it, in one step. */
export function SignupPasswordPage({csrf, values, error, minLength}: StepProps & {readonly minLength: number}) {
	return (
		<Page title="Choose a password" tenant={values.tenant}>
			<Form action="/signup/verify" csrf={csrf} submit="Create my account" error={error}>
				<Hidden name="email" value={values.email} />
				<Hidden name="tenant" value={values.tenant} />
				<Hidden name="code" value={values.code} />
				<p>At least {minLength} characters.</p>
				<Field label="E-mail" name="username" value={values.email} autoComplete="username" readOnly />
				<Field label="Password" name="password" type="password" autoComplete="new-password" minLength={minLength} />
				<Field label="Password again" name="repeat" type="password" autoComplete="new-password" minLength={minLength} />
			</Form>
		</Page>
	);
}
