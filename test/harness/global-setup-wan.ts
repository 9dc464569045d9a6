import { setUpPass } from './global-setup';

export default function globalSetup(): Promise<void> {
  return setUpPass('wan');
}
