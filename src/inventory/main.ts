/** Inventory process: `npm run start:inventory`. */
import { runMain } from '../messaging/index.ts';
import { inventoryService } from './app.ts';

await runMain(inventoryService);
