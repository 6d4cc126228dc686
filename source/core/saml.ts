/** Single sign-on (SAML): the sign-ins themselves. The settings are core/sso-settings.ts; the library is behind ctx.saml. */
export {completeSamlSignIn, samlConfigIn, samlLoginUrl, ssoReady, isSamlSignup, startInvitationSignIn, startSignupSignIn, SAML_REQUEST_SECONDS, type SamlOutcome} from './saml/sign-in.js';
export {CLOCK_SKEW_MS, MAX_RESPONSE_BYTES} from './saml/limits.js';
export {
	awaitDeviceLogin,
	cancelDeviceLogin,
	confirmDeviceCode,
	DEVICE_PATH,
	formatDeviceCode,
	inspectDeviceCode,
	normaliseDeviceCode,
	pollDeviceLogin,
	startDeviceLogin,
	type DeviceLoginStarted,
	type DeviceLoginView,
	type DevicePoll,
	type TerminalOrigin,
} from './saml/device.js';
