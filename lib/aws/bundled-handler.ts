import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';

/** The Lambda handlers of lib/runtime/handlers that the AWS constructs deploy. */
export type HandlerName = 'build-manifest' | 'connect-export';

/** Every handler `npm pack` pre-bundles (scripts/pack/bundle-handlers.ts). */
export const HANDLER_NAMES: readonly HandlerName[] = ['build-manifest', 'connect-export'];

/** The Lambda runtime every handler is bundled for and deployed on. */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * The folder of a handler pre-bundled at pack time (`<package>/dist/handlers/<name>/index.js`),
 * or undefined when the code runs from a checkout of the repository (no pre-bundled handlers).
 * From a checkout this file is lib/aws/; in the package it is dist/lib/aws/.
 */
export function prebundledHandlerDir(name: HandlerName): string | undefined {
  const dir = path.join(__dirname, '..', '..', 'handlers', name);
  return fs.existsSync(path.join(dir, 'index.js')) ? dir : undefined;
}

function handlerSource(name: HandlerName): string {
  const ts = path.join(__dirname, '..', 'runtime', 'handlers', `${name}.ts`);
  return fs.existsSync(ts) ? ts : path.join(__dirname, '..', 'runtime', 'handlers', `${name}.js`);
}

/** Properties of a handler function: everything of `lambda.FunctionProps` but the code, handler and runtime. */
export type HandlerFunctionProps = Omit<lambda.FunctionProps, 'code' | 'handler' | 'runtime'>;

/**
 * A Lambda function running one of Counterparty's handlers. In the published
 * package the handler was bundled with esbuild at pack time, so the user's
 * synth needs neither esbuild nor Docker and the asset hash is the same on
 * every machine. From a checkout of the repository it is bundled from source
 * by `NodejsFunction` (esbuild, a devDependency), with the same options.
 */
export function newHandlerFunction(scope: Construct, id: string, name: HandlerName, props: HandlerFunctionProps): lambda.Function {
  const dir = prebundledHandlerDir(name);
  if (dir) {
    return new lambda.Function(scope, id, { ...props, code: lambda.Code.fromAsset(dir), handler: 'index.handler', runtime: HANDLER_RUNTIME });
  }
  return new nodejs.NodejsFunction(scope, id, {
    ...props,
    entry: handlerSource(name),
    handler: 'handler',
    runtime: HANDLER_RUNTIME,
    bundling: { minify: true, sourceMap: true, target: 'node24', format: nodejs.OutputFormat.CJS, bundleAwsSDK: true },
  });
}
