import { buildApp } from './build-app.ts';

// `cdk synth` runs this file and reads the cloud assembly that synth() writes to its outdir.
buildApp().app.synth();
