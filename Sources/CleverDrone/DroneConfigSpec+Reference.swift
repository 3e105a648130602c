extension DroneConfigSpec {
    /// The reference drone's `config/spec/configspec_client.ini`, as DRONE.md §5.1 describes it
    /// (the `host` check keeps its inline comment, as the reference's reply leaks it).
    static let referenceText = """
        config_name = string(default='client')
        config_version = float(default=1.0)
        # Available options: /hostname ; /default ; /ip ; any string 63 characters length
        id = string(default=/hostname, max=63)
        clover_dir = string(default=auto)

        [SERVER]
        port = integer(default=25000, min=1)
        host = ip(default=192.168.1.101) # string?
        buffer_size = integer(default=1024)

        [BROADCAST]
        use = boolean(default=True)
        port = integer(default=8181, min=1)

        [TELEMETRY]
        transmit = boolean(default=True)
        frequency = float(default=1.0, min=0)
        log_resources = boolean(default=False)

        [FLIGHT]
        frame_id = string(default=map)
        arming_time = float(default=0.5)
        takeoff_height = float(default=1.0)
        takeoff_time = float(default=5.0, min=0)
        reach_first_point_time = float(default=5.0, min=0)
        land_delay = float(default=1.0, min=0)
        land_timeout = float(default=10.0, min=0)

        [FLOOR FRAME]
        # Available options: map, aruco_map, gps, floor
        parent = string(default=map)
        # Frame translation (x, y, z)
        # __list__ x y z
        translation = float_list(default=list(0.0, 0.0, 0.0), min=3, max=3)
        # Frame rotation (roll, pitch, yaw) in degrees
        # __list__ roll pitch yaw
        rotation = float_list(default=list(0.0, 0.0, 0.0), min=3, max=3)

        [GPS FRAME]
        lat = string(default=0)
        lon = string(default=0)
        yaw = float(default=0)

        [ANIMATION]
        # Available options: auto, takeoff, fly
        start_action = string(default=auto)
        # Takeoff level to set start action automatically
        takeoff_level = float(default=0.5)
        # Available options: current, or a z coordinate in meters
        ground_level = string(default=current)
        # Frame delay in seconds
        frame_delay = float(default=0.1, min=0.01)
        # Available options: animation, nan, or a number in degrees
        yaw = string(default=nan)
        # Animation ratio (x, y, z)
        # __list__ x y z
        ratio = float_list(default=list(1.0, 1.0, 1.0), min=3, max=3)
        # Drone's animation individual offset (x, y, z)
        # __list__ x y z
        private_offset = float_list(default=list(0, 0, 0), min=3, max=3)
        # Drone's animation common offset
        # __list__ x y z
        common_offset = float_list(default=list(0, 0, 0), min=3, max=3)
        # Flags for output frames
        [[OUTPUT]]
        static_begin = boolean(default=False)
        takeoff = boolean(default=True)
        route = boolean(default=True)
        land = boolean(default=False)
        static_end = boolean(default=False)

        [LED]
        use = boolean(default=False)
        pin = integer(default=21, min=0, max=100)
        count = integer(default=60, min=1)
        takeoff_indication = boolean(default=True)
        land_indication = boolean(default=True)

        [FAILSAFE]
        enabled = boolean(default=False)
        log_state = boolean(default=False)
        # Available options: emergency_land, land, disarm
        action = string(default=emergency_land)
        # Time to get vision position after arm
        vision_pose_delay_after_arm = float(default=3.0, min=0)
        # Timeout for the last vision pose; 0 disables the check
        vision_pose_timeout = float(default=0.0, min=0)
        # Max delta between current position and setpoint; 0 disables the check
        position_delta_max = float(default=3.0, min=0)
        # Time to disarm after action is triggered
        disarm_timeout = float(default=10.0, min=0)

        [EMERGENCY LAND]
        thrust = float(default=0.45, min=0, max=1)
        decrease_thrust_after = float(default=5.0, min=0)

        [SYSTEM]
        change_hostname = boolean(default=False)
        restart_after_rename = boolean(default=False)

        [NTP]
        use = boolean(default=False)
        host = string(default=ntp1.stratum2.ru)
        port = integer(default=123, min=1)
        """
}
