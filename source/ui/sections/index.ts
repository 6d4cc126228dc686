import type {Section} from './section.js';
import {usersSection} from './users.js';
import {accountSection} from './account.js';
import {invitationsSection} from './invitations.js';
import {signupDomainsSection} from './signup-domains.js';
import {projectsSection} from './projects.js';
import {auditSection} from './audit.js';
import {serverSettingsSection} from './server-settings.js';
import {tenantsSection} from './tenants.js';
import {ssoSection} from './sso.js';

/**
 * Every section of the console. To add one: create `sections/<name>.tsx` exporting a `Section`,
 * import it here and add it to the array (one line each; `order` decides the position).
 */
export const SECTIONS: readonly Section[] = [usersSection, invitationsSection, signupDomainsSection, projectsSection, serverSettingsSection, tenantsSection, ssoSection, auditSection, accountSection].sort((a, b) => a.order - b.order);
