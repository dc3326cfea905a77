// Importing a backend module registers its URL schemes with the registry.
import "./s3-target.ts";
import "./webdav.ts";

export { type Env, parseTarget, type Target, TargetError } from "./registry.ts";
