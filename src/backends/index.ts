// Importing a backend module registers its URL schemes with the registry.
import "./s3-target.ts";
import "./webdav.ts";

export { parseTarget, TargetError, type Env, type Target } from "./registry.ts";
