"""The assembly's body and its procedure (issue 23): members with their group and seat, the rules
(quorum, majorities, tabling deadlines, changing votes, abstentions), sittings with attendance, a
voting list and minutes, and the public view of a sitting."""
