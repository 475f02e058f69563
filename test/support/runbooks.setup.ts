import { installRunbooks, RunbookLibrary } from '../../lib/runbooks/library.ts';
import { RUNBOOKS_DIR, readRunbookShape, runbookFilesIn } from '../../lib/runbooks/read.ts';

/**
 * Every test file sees the repository's runbooks as the runbooks requests, routes and sweeps may
 * name, as `npm start` and synth install them before reading anything else (config/routes.json
 * and config/sweeps.json run some). Read without the catalog, so that a test file can still mock
 * a product's catalog (test/lib/actions/catalog.test.ts); their steps are checked against it in
 * test/lib/runbooks/shipped.test.ts.
 */
installRunbooks(
  new RunbookLibrary(runbookFilesIn(RUNBOOKS_DIR).map((file) => readRunbookShape(file).runbook)),
);
