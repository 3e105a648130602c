/// One NTP-style exchange between the station and a drone: four wall-clock
/// readings, as Unix seconds. The station's clock gives ``sent`` and
/// ``received``; the drone's gives ``droneReceived`` and ``droneSent`` (a
/// reference drone answering `time` gives one reading, used for both).
///
/// With `t1` … `t4` in that order, the drone's clock is ahead of the station's by
/// `((t2 − t1) + (t3 − t4)) / 2`, and the round trip, the drone's own time taken
/// out, is `(t4 − t1) − (t3 − t2)`. Whatever the paths' asymmetry, the true
/// offset is within half the round trip of that estimate.
package struct ClockSample: Sendable, Hashable {
    /// `t1`: the station's clock as the request left.
    package var sent: Double
    /// `t2`: the drone's clock as the request arrived.
    package var droneReceived: Double
    /// `t3`: the drone's clock as the answer left.
    package var droneSent: Double
    /// `t4`: the station's clock as the answer arrived.
    package var received: Double

    /// A sample of a four-timestamp exchange (`x-clever-time`).
    package init(sent: Double, droneReceived: Double, droneSent: Double, received: Double) {
        self.sent = sent
        self.droneReceived = droneReceived
        self.droneSent = droneSent
        self.received = received
    }

    /// A sample of a reference drone's `time` answer: one reading of its clock.
    package init(sent: Double, droneTime: Double, received: Double) {
        self.init(sent: sent, droneReceived: droneTime, droneSent: droneTime, received: received)
    }

    /// How far the drone's clock is ahead of the station's, in seconds.
    package var offset: Double {
        ((droneReceived - sent) + (droneSent - received)) / 2
    }

    /// The round trip in seconds, without the drone's time between its two readings (never negative).
    package var roundTrip: Double {
        max(0, (received - sent) - (droneSent - droneReceived))
    }
}
