{%- set svc = service %}{{ header }}
// Events of the {{ svc.name.raw }} functions: put on the EventBridge bus EVENT_BUS_NAME, one event per
// new row and topic, as the Python functions put theirs (functions/app/events.py). The event's
// `detail-type` is the topic, its `source` the service (SERVICE_NAME) and its `detail` the row as
// the API answered it; one EventBridge rule per topic routes it to the SQS queue of each consuming
// function. Functions have no outbox table yet: a row's events are put once its transaction has
// committed, and a put that fails fails the request (500) with the row written, so the caller
// learns that the event may be missing.
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandOutput } from "@aws-sdk/client-eventbridge";
import { settings } from "./config.js";
import type { Bus } from "./crud.js";
import type { Row } from "./db.js";

/** EventBridge refused the event. */
export class PublishError extends Error {}

/** What a publisher needs of EventBridge's client (the tests give it a fake: test/support.ts). */
export interface EventsClient {
  send(command: PutEventsCommand): Promise<Pick<PutEventsCommandOutput, "FailedEntryCount" | "Entries">>;
}

/** Puts events with the AWS SDK (its region and the function's role from the Lambda runtime). */
export class Publisher implements Bus {
  /** Made on the first put (the tests set a fake first). */
  client: EventsClient | null = null;

  async publish(topic: string, data: Row): Promise<void> {
    const config = settings();
    this.client ??= new EventBridgeClient({});
    const entry = {
      EventBusName: config.EVENT_BUS_NAME,
      Source: config.SERVICE_NAME,
      DetailType: topic,
      Detail: JSON.stringify(data),
    };
    const out = await this.client.send(new PutEventsCommand({ Entries: [entry] }));
    if (out.FailedEntryCount) {
      const failed = out.Entries?.[0];
      throw new PublishError(`${topic}: ${failed?.ErrorCode ?? "refused"} ${failed?.ErrorMessage ?? ""}`.trim());
    }
  }
}

/** The instance's publisher, with its one client. */
export const publisher = new Publisher();
