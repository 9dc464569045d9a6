import type { GateSettings } from '../health/types.js';

/**
 * The gate pointed at one colour directly: every URL keeps its path and query, and goes to
 * `http://<address>` (a published port of the idle colour), so it is checked before the
 * proxy sends it anything.
 */
export function gateAt(settings: GateSettings, address: string): GateSettings {
  return {
    ...settings,
    urls: settings.urls.map((raw) => {
      const url = new URL(raw);
      return `http://${address}${url.pathname}${url.search}`;
    }),
  };
}
