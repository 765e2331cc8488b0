/** Sales process: `npm run start:sales`. */
import { runMain } from '../messaging/index.ts';
import { salesService } from './app.ts';

await runMain(salesService());
