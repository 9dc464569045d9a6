import type { ReleaseSettings } from '../deploy/settings.js';
import type { SshSettings } from '../ssh/settings.js';
import type { PreviewDatabaseSettings } from './database.js';
import type { GitHubTarget } from './github.js';
import type { PortRange, WhenFull } from './record.js';

export type PreviewCommand = 'open' | 'close' | 'cleanup';

/** Where the previews live on the host and how the proxy is reached. */
export interface PreviewPlace {
  readonly ssh: SshSettings;
  /** As given (`~/deploy-kit/previews` by default): resolved against the host's home. */
  readonly previewsPath: string;
  readonly caddyConfig: string;
  /** As given; '' means `<previews-path>/routes`. */
  readonly caddyRoutes: string;
  readonly lock: ReleaseSettings['lock'];
}

/** Everything action-preview was asked to do, checked before connecting. */
export interface PreviewSettings extends PreviewPlace {
  readonly command: PreviewCommand;
  /** The app the previews are of (production's name). */
  readonly app: string;
  readonly github: GitHubTarget | undefined;
  readonly runUrl: string;
  readonly ttlMs: number;
  /** The PostgreSQL server previews get databases on (`database-url`), when given; `source` says what an open puts in. */
  readonly database?: PreviewDatabaseSettings;
  /** `open` and `close` only. */
  readonly pr?: PullRequestPreview;
}

export interface PullRequestPreview {
  readonly pr: number;
  /** `<app>-pr-<pr>`, shortened to 63 characters (names.ts). */
  readonly name: string;
  readonly url: string;
  /** `pr-<pr>.<preview-domain>` */
  readonly hostName: string;
  readonly scheme: 'https' | 'http';
  /** The commit the preview is of (its deployment's ref). */
  readonly sha: string;
  /** `open` only: what to deploy. */
  readonly open?: OpenSettings;
}

export interface OpenSettings {
  readonly release: Omit<ReleaseSettings, 'app' | 'deployPath' | 'gate'>;
  readonly services: readonly string[];
  readonly webService: string;
  readonly webPort: number;
  readonly healthPath: string;
  readonly healthTimeoutMs: number;
  readonly cpus: string;
  readonly memory: string;
  readonly maxPreviews: number;
  readonly whenFull: WhenFull;
  readonly portRange: PortRange;
  /** A label the pull request must carry before its preview is deployed ('' for none). */
  readonly requireLabel: string;
}
