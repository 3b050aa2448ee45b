-- 0011: who last set a channel's schedule, and the language of their Discord, so that the bot can
-- tell them in a direct message when the schedule pauses. NULL on schedules set before this.
ALTER TABLE digest_schedules ADD COLUMN set_by INTEGER;
ALTER TABLE digest_schedules ADD COLUMN set_by_language TEXT CHECK (set_by_language IN ('ja', 'en'));
