{{ header }}
// RDS IAM authentication: every new connection to the RDS Proxy signs in as DB_USER with a fresh
// IAM authentication token (valid 15 minutes, made from the function's role by
// @aws-sdk/rds-signer) as its password; no password is stored anywhere. pg asks for a password
// when it opens a connection and the URL carries none: its default password is this function.
import { Signer } from "@aws-sdk/rds-signer";
import pg from "pg";
import type { Settings } from "./config.js";

/** Sign in with IAM tokens, unless DATABASE_URL was given (a local run, a test). */
export function useIamTokens(config: Settings): void {
  if (process.env.DATABASE_URL) {
    return;
  }
  const signer = new Signer({ hostname: config.DB_HOST, port: Number(config.DB_PORT), username: config.DB_USER });
  pg.defaults.password = () => signer.getAuthToken();
}
