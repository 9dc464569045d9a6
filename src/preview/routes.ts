import { Command } from '../shell/quote.js';

/**
 * The proxy side of a preview: one Caddy site per preview, in a file of its own in the routes
 * folder that the host's Caddyfile imports (`import <routes>/*.caddy`). A route is added by
 * renaming a finished file into place and removed by deleting it; `caddy reload` then loads
 * the whole config at once (Caddy keeps the running config if the new one does not load), and
 * the other previews' and the host's own sites are untouched.
 */
export interface CaddySettings {
  /** The Caddyfile the host's Caddy runs (`/etc/caddy/Caddyfile` for Debian's package). */
  readonly config: string;
  /** Where the route files go; the Caddyfile must import `<routes>/*.caddy`. */
  readonly routes: string;
}

export const routeFile = (caddy: CaddySettings, name: string): string => `${caddy.routes}/${name}.caddy`;

/** The site block of one preview: `https` gets Caddy's automatic certificate for the name; `http` serves plain HTTP. */
export function routeText(o: { name: string; pr: number; host: string; scheme: 'https' | 'http'; port: number }): string {
  const address = o.scheme === 'https' ? o.host : `http://${o.host}`;
  return [
    `# deploy-kit preview ${o.name} (pull request #${o.pr}); removed when the pull request closes.`,
    `${address} {`,
    `\treverse_proxy 127.0.0.1:${o.port}`,
    '}',
    '',
  ].join('\n');
}

/** Reloads Caddy from its Caddyfile through its admin endpoint (the address the Caddyfile names; localhost:2019 by default). */
export const reloadCaddy = (caddy: CaddySettings): Command => ['caddy', 'reload', '--config', caddy.config, '--adapter', 'caddyfile'];
